"""A local **stand-in** for TF Serving's REST API, for trying clients without Docker.

It is not TF Serving: it loads the exported SavedModels of one model folder with
``tf.saved_model.load`` and answers the same JSON calls (status, metadata, ``:predict`` in row
and columnar formats, ``{"b64": ...}`` binary values). Bind it to localhost only.

    python -m tfdeepclust.serving.standin --model-base-path saved_models/asc2d_usps \\
        --model-name asc2d_usps --port 8501
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

_ROUTE = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?"
    r"(?P<action>:predict|/metadata)?$"
)


class _Models:
    """Loaded versions of one model folder (``<base>/<integer version>/``)."""

    def __init__(self, base_path: str | Path, name: str):
        self.base, self.name = Path(base_path), name
        self._loaded: dict[int, object] = {}
        self._lock = threading.Lock()

    def versions(self) -> list[int]:
        return sorted(
            int(p.name)
            for p in self.base.glob("*")
            if p.name.isdigit() and (p / "saved_model.pb").is_file()
        )

    def get(self, version: int | None):
        import tensorflow as tf

        versions = self.versions()
        if not versions:
            raise LookupError(
                f"No versions of servable {self.name} found under base path {self.base}"
            )
        version = versions[-1] if version is None else version
        if version not in versions:
            raise LookupError(f"Servable not found for request: Specific({self.name}, {version})")
        with self._lock:
            if version not in self._loaded:
                self._loaded[version] = tf.saved_model.load(str(self.base / str(version)))
        return self._loaded[version]


def _decode(value):
    """JSON value -> array; ``{"b64": ...}`` -> bytes (recursively through lists)."""
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list) and value and isinstance(value[0], dict) and "b64" in value[0]:
        return [_decode(v) for v in value]
    return value


def predict(models: _Models, version: int | None, body: dict) -> dict:
    """Answers one ``:predict`` body like TF Serving's REST API."""
    import tensorflow as tf

    model = models.get(version)
    sig_name = body.get("signature_name", "serving_default")
    if sig_name not in model.signatures:
        raise KeyError(f'Serving signature name: "{sig_name}" not found in signature def')
    fn = model.signatures[sig_name]
    specs = fn.structured_input_signature[1]
    if "instances" in body:
        inst = body["instances"]
        if len(specs) == 1 and not (
            inst
            and isinstance(inst[0], dict)
            and set(inst[0]) <= set(specs)
            and "b64" not in inst[0]
        ):
            feeds = {next(iter(specs)): [_decode(v) for v in inst]}
        else:
            feeds = {k: [_decode(i[k]) for i in inst] for k in specs}
        row = True
    elif "inputs" in body:
        inp = body["inputs"]
        feeds = (
            {k: _decode(v) for k, v in inp.items()}
            if isinstance(inp, dict) and set(inp) <= set(specs)
            else {next(iter(specs)): _decode(inp)}
        )
        row = False
    else:
        raise ValueError("Missing 'instances' or 'inputs' key")
    args = {
        k: tf.constant(
            np.asarray(
                v, dtype=object if specs[k].dtype == tf.string else specs[k].dtype.as_numpy_dtype
            )
        )
        for k, v in feeds.items()
    }
    out = {k: v.numpy().tolist() for k, v in fn(**args).items()}
    if row:
        n = len(next(iter(out.values())))
        preds = [{k: out[k][i] for k in out} for i in range(n)]
        return {"predictions": [next(iter(p.values())) for p in preds] if len(out) == 1 else preds}
    return {"outputs": next(iter(out.values())) if len(out) == 1 else out}


def _dims(shape) -> list[int]:
    return [-1 if d is None else int(d) for d in shape.as_list()]


def metadata(models: _Models, version: int | None) -> dict:
    model = models.get(version)
    defs = {}
    for name, fn in model.signatures.items():
        defs[name] = {
            "inputs": {
                k: {"dtype": v.dtype.name, "shape": _dims(v.shape)}
                for k, v in fn.structured_input_signature[1].items()
            },
            "outputs": {
                k: {"dtype": v.dtype.name, "shape": _dims(v.shape)}
                for k, v in fn.structured_outputs.items()
            },
        }
    return {
        "model_spec": {"name": models.name, "version": str(version or models.versions()[-1])},
        "metadata": {"signature_def": {"signature_def": defs}},
    }


def make_server(
    base_path: str | Path, name: str, host: str = "127.0.0.1", port: int = 8501
) -> ThreadingHTTPServer:
    """Builds the stand-in server (call ``serve_forever``; port 0 picks a free port)."""
    models = _Models(base_path, name)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test and CLI output quiet
            pass

        def _send(self, code: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self):
            m = _ROUTE.match(self.path)
            if not m or m["name"] != models.name:
                raise LookupError(f"Servable not found for request: {self.path}")
            return (int(m["version"]) if m["version"] else None), m["action"]

        def do_GET(self):  # noqa: N802
            try:
                version, action = self._route()
                if action == "/metadata":
                    return self._send(200, metadata(models, version))
                states = [
                    {
                        "version": str(v),
                        "state": "AVAILABLE",
                        "status": {"error_code": "OK", "error_message": ""},
                    }
                    for v in models.versions()
                    if version in (None, v)
                ]
                return self._send(200, {"model_version_status": states})
            except LookupError as e:
                return self._send(404, {"error": str(e)})

        def do_POST(self):  # noqa: N802
            try:
                version, action = self._route()
                if action != ":predict":
                    raise LookupError(f"Malformed request: POST {self.path}")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                return self._send(200, predict(models, version, body))
            except LookupError as e:
                return self._send(404, {"error": str(e)})
            except Exception as e:  # TF Serving answers every bad request with a JSON error
                return self._send(400, {"error": f"{type(e).__name__}: {e}"})

    return ThreadingHTTPServer((host, port), Handler)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-base-path", required=True)
    p.add_argument("--model-name", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8501)
    a = p.parse_args(argv)
    server = make_server(a.model_base_path, a.model_name, a.host, a.port)
    print(
        f"stand-in TF Serving REST API (not TF Serving) on http://{a.host}:"
        f"{server.server_address[1]}/v1/models/{a.model_name}",
        flush=True,
    )
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
