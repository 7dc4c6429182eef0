"""A client for TF Serving's REST API (``POST /v1/models/<name>[/versions/<v>]:predict``).

Uses only the standard library. Row format (``instances``) and columnar format (``inputs``) are
both supported; image bytes travel base64-encoded as ``{"b64": ...}`` values, which TF Serving
decodes into the ``predict_images`` signature's tf.string input.

Example:
    >>> client = RestClient("http://localhost:8501", "asc2d_usps")
    >>> labels, proba = client.predict(x)                 # float32 [N, 16, 16, 1]
    >>> labels, proba = client.predict_image_files(["a.png", "b.png"])
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np


class ServingError(RuntimeError):
    """TF Serving answered with an error (its ``{"error": ...}`` message is kept)."""


class RestClient:
    """Talks to one model of a TF Serving REST endpoint.

    Args:
        base_url: e.g. ``http://localhost:8501``.
        model_name: The served model name (the folder name under the model base path).
        version: A specific integer version, or None for the served (highest) one.
        timeout: Seconds per request.
    """

    def __init__(
        self, base_url: str, model_name: str, version: int | None = None, timeout: float = 30.0
    ):
        self.base_url = base_url.rstrip("/")
        self.model_name = model_name
        self.version = version
        self.timeout = timeout

    @property
    def model_url(self) -> str:
        v = f"/versions/{self.version}" if self.version is not None else ""
        return f"{self.base_url}/v1/models/{self.model_name}{v}"

    def _request(self, url: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            url,
            data=data,
            method="POST" if body is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read()).get("error", str(e))
            except (ValueError, AttributeError):
                message = str(e)
            raise ServingError(f"{url}: HTTP {e.code}: {message}") from e

    def status(self) -> dict:
        """``GET /v1/models/<name>``: the version states."""
        return self._request(self.model_url)

    def metadata(self) -> dict:
        """``GET /v1/models/<name>/metadata``: the signature definitions."""
        return self._request(self.model_url + "/metadata")

    def predict_raw(self, body: dict) -> dict:
        """POSTs a ready-made request body to ``:predict`` and returns the JSON answer."""
        return self._request(self.model_url + ":predict", body)

    def predict(
        self, x: np.ndarray, columnar: bool = False, signature_name: str = "serving_default"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cluster labels and probabilities for ``x`` (raw units, as for training)."""
        x = np.asarray(x, dtype=np.float32)
        if columnar:
            out = self.predict_raw({"signature_name": signature_name, "inputs": {"x": x.tolist()}})[
                "outputs"
            ]
            return (
                np.asarray(out["cluster_labels"], dtype=np.int32),
                np.asarray(out["probabilities"], dtype=np.float32),
            )
        rows = self.predict_raw({"signature_name": signature_name, "instances": x.tolist()})[
            "predictions"
        ]
        return _rows_to_arrays(rows)

    def predict_images(self, images: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Labels and probabilities of encoded PNG/JPEG bytes (``predict_images`` signature)."""
        rows = self.predict_raw(
            {"signature_name": "predict_images", "instances": encode_b64(images)}
        )["predictions"]
        return _rows_to_arrays(rows)

    def predict_image_files(self, paths) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`predict_images`, reading the files."""
        return self.predict_images([Path(p).read_bytes() for p in paths])


def encode_b64(images: list[bytes]) -> list[dict]:
    """TF Serving's JSON encoding of binary values: ``{"b64": "<base64>"}`` per item."""
    return [{"b64": base64.b64encode(b).decode("ascii")} for b in images]


def _rows_to_arrays(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray([r["cluster_labels"] for r in rows], dtype=np.int32)
    proba = np.asarray([r["probabilities"] for r in rows], dtype=np.float32)
    return labels, proba
