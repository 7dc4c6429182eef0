"""A client for TF Serving's gRPC ``PredictionService`` (port 8500).

Needs the optional ``tensorflow-serving-api`` package (client protos and stubs only):
``pip install "tensorflow-serving-api==2.21.*"``.

Example:
    >>> labels, proba = predict_grpc("localhost:8500", "asc2d_usps", x)
"""

from __future__ import annotations

import numpy as np


def _serving_api():
    try:
        import grpc
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    except ImportError as e:
        raise ImportError(
            "the gRPC client needs tensorflow-serving-api: pip install "
            '"tensorflow-serving-api==2.21.*"'
        ) from e
    return grpc, predict_pb2, prediction_service_pb2_grpc


def make_request(
    model_name: str,
    inputs: dict[str, np.ndarray],
    signature_name: str = "serving_default",
    version: int | None = None,
):
    """Builds a ``PredictRequest``; inputs by name: ``{"x": array}`` or ``{"images": bytes}``."""
    import tensorflow as tf

    _, predict_pb2, _ = _serving_api()
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return request


def predict_grpc(
    target: str,
    model_name: str,
    x: np.ndarray | None = None,
    images: list[bytes] | None = None,
    version: int | None = None,
    timeout: float = 30.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster labels and probabilities from a TF Serving gRPC endpoint.

    Args:
        target: ``host:port`` of the gRPC endpoint.
        model_name: The served model name.
        x: Raw float inputs (``serving_default``), or
        images: Encoded image bytes (``predict_images``).
        version: A specific version, or None for the served one.
        timeout: Seconds.
    """
    import tensorflow as tf

    grpc, _, service = _serving_api()
    if (x is None) == (images is None):
        raise ValueError("pass exactly one of x or images")
    if x is not None:
        request = make_request(model_name, {"x": np.asarray(x, np.float32)}, version=version)
    else:
        request = make_request(
            model_name, {"images": np.asarray(images, dtype=object)}, "predict_images", version
        )
    with grpc.insecure_channel(target) as channel:
        response = service.PredictionServiceStub(channel).Predict(request, timeout)
    labels = tf.make_ndarray(response.outputs["cluster_labels"])
    proba = tf.make_ndarray(response.outputs["probabilities"])
    return labels, proba
