"""SavedModel export in TF Serving's layout: ``<export_dir>/<model_name>/<integer version>/``.

Signatures (inputs in the units the user's data came in: the loader's scaling, e.g. 1/255 for
8-bit images, is applied inside the model):

Every ``x`` is checked for its shape before any kernel runs (``checked_input``): a malformed
request fails alone instead of aborting the serving process.

* ``serving_default``: ``x`` float32 ``[N, *input_shape]`` -> ``cluster_labels`` int32 ``[N]``,
  ``probabilities`` float32 ``[N, K]``.
* ``embed``: ``x`` -> ``embedding`` float32 ``[N, d]``.
* ``predict_images`` (image models): ``images`` tf.string ``[N]`` of encoded PNG/JPEG/BMP/GIF
  bytes, decoded, converted to the model's channels, resized to its input size, scaled to
  [0, 1] -> ``cluster_labels``, ``probabilities``. This is what a TF Serving REST client sends as
  ``{"b64": ...}`` values.

A version folder is written to a temporary folder and renamed, so a server polling the model
folder never sees a partial version; an existing version is never overwritten. The metadata
(method, data set, K, input shape, units, metrics, git SHA) is an asset:
``assets/tfdeepclust_metadata.json``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import keras
import tensorflow as tf

from tfdeepclust.atomic import atomic_write_dir

METADATA_FILE = "tfdeepclust_metadata.json"


def next_version(model_dir: str | os.PathLike) -> int:
    """1 + the largest integer version folder in ``model_dir`` (1 when there is none)."""
    versions = [
        int(p.name)
        for p in Path(model_dir).glob("*")
        if p.is_dir() and re.fullmatch(r"\d+", p.name)
    ]
    return max(versions, default=0) + 1


def decode_images(images, height: int, width: int, channels: int):
    """Decodes encoded image bytes ``[N]`` to float32 ``[N, height, width, channels]`` in [0, 1]."""

    def one(data):
        img = tf.io.decode_image(data, channels=channels, expand_animations=False)
        img = tf.image.convert_image_dtype(img, tf.float32)  # uint8 / uint16 -> [0, 1]
        img = tf.image.resize(img, [height, width], method="bilinear")
        return tf.ensure_shape(img, [height, width, channels])

    return tf.map_fn(
        one, images, fn_output_signature=tf.TensorSpec([height, width, channels], tf.float32)
    )


def checked_input(x, sample_shape: tuple[int, ...]):
    """``x`` after a run-time check that it is ``[N, *sample_shape]``.

    A signature's ``input_signature`` is not enforced on the tensors a server feeds it, and
    oneDNN's convolution aborts the whole process (not the request) on a tensor of the wrong
    rank. ``EnsureShape`` checks at run time, before any kernel that reads ``x``, so a bad request
    fails alone with an ``InvalidArgumentError`` naming both shapes. (Checks built from
    ``tf.shape`` do not work here: Grappler folds them from the signature's static shape.)
    """
    return tf.ensure_shape(x, [None, *sample_shape])


def with_padding_row(fn, x, sample_shape: tuple[int, ...]) -> dict:
    """``fn(x)`` computed on ``x`` plus one zero sample, each output cut back to ``len(x)``.

    oneDNN's fused convolution fails on an empty batch ("input depth must be evenly divisible
    by filter depth"), and an empty request is valid: it gets empty outputs. One extra sample
    per request is the price.
    """
    n = tf.shape(x)[0]
    padded = tf.concat([x, tf.zeros([1, *sample_shape], x.dtype)], axis=0)
    return {k: v[:n] for k, v in fn(padded).items()}


def export_saved_model(
    model,
    export_dir: str | os.PathLike,
    model_name: str,
    metadata: dict | None = None,
    version: int | None = None,
    input_scale: float = 1.0,
) -> Path:
    """Exports ``model`` as ``<export_dir>/<model_name>/<version>/`` atomically.

    Args:
        model: A :class:`~tfdeepclust.methods.base.DeepClusteringModel`.
        export_dir: The TF Serving model base path (e.g. ``saved_models``).
        model_name: e.g. ``asc2d_usps``.
        metadata: JSON-able facts (data set, metrics, git SHA ...) saved as an asset.
        version: Version number; the next free one by default.
        input_scale: Factor from the user's raw units to the model's (1/255 for 8-bit images).

    Returns:
        The version folder.

    Raises:
        FileExistsError: If that version exists already.
    """
    model_dir = Path(export_dir) / model_name
    version = version or next_version(model_dir)
    shape = tuple(model.sample_shape)
    spec = tf.TensorSpec([None, *shape], tf.float32, name="x")
    scale = float(input_scale)

    def labels(x_model_units):
        out = model.predict_step(x_model_units)
        return {"cluster_labels": out["labels"], "probabilities": out["probabilities"]}

    def embedding(x_model_units):
        return {"embedding": model.encoder(x_model_units, training=False)}

    def raw_input(fn):
        return lambda x: with_padding_row(fn, checked_input(x, shape) * scale, shape)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", raw_input(labels), input_signature=[spec])
    archive.add_endpoint("embed", raw_input(embedding), input_signature=[spec])
    if len(shape) == 3:
        h, w, c = shape
        archive.add_endpoint(
            "predict_images",
            lambda images: with_padding_row(labels, decode_images(images, h, w, c), shape),
            input_signature=[tf.TensorSpec([None], tf.string, name="images")],
        )
    meta = dict(
        metadata or {},
        method=model.method_name,
        n_clusters=model.n_clusters,
        input_shape=list(shape),
        input_scale=scale,
        input_units=(
            "0..255 (8-bit)" if abs(scale - 1 / 255) < 1e-12 else f"model units x {scale:g}"
        ),
        signatures=["serving_default", "embed"] + (["predict_images"] if len(shape) == 3 else []),
    )

    def write(tmp: Path) -> None:
        archive.write_out(str(tmp), verbose=False)
        assets = tmp / "assets"
        assets.mkdir(exist_ok=True)
        (assets / METADATA_FILE).write_text(json.dumps(meta, indent=2, default=str))

    return atomic_write_dir(model_dir / str(version), write)


def resolve_version_dir(path: str | os.PathLike) -> Path:
    """A version folder itself, or the newest integer version inside a model folder."""
    path = Path(path)
    if (path / "saved_model.pb").is_file():
        return path
    versions = sorted(
        (
            int(p.name)
            for p in path.glob("*")
            if p.name.isdigit() and (p / "saved_model.pb").is_file()
        ),
        reverse=True,
    )
    if not versions:
        raise FileNotFoundError(
            f"{path} is not a SavedModel folder (no saved_model.pb) and holds no integer version "
            "folders; pass saved_models/<name> or saved_models/<name>/<version>."
        )
    return path / str(versions[0])


def read_metadata(version_dir: str | os.PathLike) -> dict:
    """Reads the metadata asset of an exported version folder."""
    return json.loads((Path(version_dir) / "assets" / METADATA_FILE).read_text())
