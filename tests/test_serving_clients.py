"""REST and gRPC clients against local stand-ins (TF Serving itself cannot be installed here)."""

import threading
from concurrent import futures

import numpy as np
import pytest

from tfdeepclust.export import export_saved_model
from tfdeepclust.methods.asc2d import ASC2D
from tfdeepclust.serving.rest import RestClient, ServingError


@pytest.fixture(scope="module")
def served(usps, tmp_path_factory):
    data = usps.subset(200, seed=2)
    model = ASC2D(data.x.shape[1:], 10, filters=(8, 8, 8), disc_hidden=(16,))
    model.compile()
    model.init_centroids(data.x, seed=0, n_init=2)
    model.set_cluster_fractions(model.soft_assign(data.x))
    root = tmp_path_factory.mktemp("serve")
    export_saved_model(model, root, "asc2d_usps")
    return model, data, root / "asc2d_usps"


@pytest.fixture(scope="module")
def rest(served):
    from tfdeepclust.serving.standin import make_server

    _, _, base = served
    server = make_server(base, "asc2d_usps", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _png(img):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.round(img[..., 0] * 255).astype(np.uint8), mode="L").save(buf, "PNG")
    return buf.getvalue()


def test_rest_row_columnar_images_status_metadata(served, rest):
    model, data, _ = served
    x = data.x[:12]
    client = RestClient(rest, "asc2d_usps")
    labels, proba = client.predict(x)
    np.testing.assert_array_equal(labels, model.predict(x))
    assert np.abs(proba - model.predict_proba(x)).max() < 1e-5
    labels_c, _ = client.predict(x, columnar=True)
    np.testing.assert_array_equal(labels_c, labels)
    q = (np.round(x * 255) / 255).astype(np.float32)
    labels_i, proba_i = client.predict_images([_png(i) for i in x])
    np.testing.assert_array_equal(labels_i, model.predict(q))
    assert client.status()["model_version_status"][0]["state"] == "AVAILABLE"
    sigs = client.metadata()["metadata"]["signature_def"]["signature_def"]
    assert sigs["serving_default"]["inputs"]["x"]["shape"] == [-1, 16, 16, 1]
    assert RestClient(rest, "asc2d_usps", version=1).predict(x)[0].tolist() == labels.tolist()


def test_rest_errors_are_raised_with_the_server_message(rest):
    with pytest.raises(ServingError, match="404"):
        RestClient(rest, "nope").predict(np.zeros((1, 16, 16, 1)))
    with pytest.raises(ServingError, match="Specific"):
        RestClient(rest, "asc2d_usps", version=9).predict(np.zeros((1, 16, 16, 1)))
    with pytest.raises(ServingError, match="400"):
        RestClient(rest, "asc2d_usps").predict(np.zeros((1, 5)))


def test_grpc_client_against_a_prediction_service_standin(served):
    grpc = pytest.importorskip("grpc")
    apis = pytest.importorskip("tensorflow_serving.apis.prediction_service_pb2_grpc")
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    from tfdeepclust.serving.grpc_client import predict_grpc

    model, data, base = served
    loaded = tf.saved_model.load(str(base / "1"))

    class Service(apis.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802
            fn = loaded.signatures[request.model_spec.signature_name or "serving_default"]
            feeds = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
            reply = predict_pb2.PredictResponse()
            for k, v in fn(**feeds).items():
                reply.outputs[k].CopyFrom(tf.make_tensor_proto(v.numpy()))
            return reply

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    apis.add_PredictionServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        x = data.x[:8]
        labels, proba = predict_grpc(f"127.0.0.1:{port}", "asc2d_usps", x=x)
        np.testing.assert_array_equal(labels, model.predict(x))
        assert proba.shape == (8, 10)
        labels_i, _ = predict_grpc(f"127.0.0.1:{port}", "asc2d_usps", images=[_png(i) for i in x])
        np.testing.assert_array_equal(
            labels_i, model.predict((np.round(x * 255) / 255).astype(np.float32))
        )
    finally:
        server.stop(0)
