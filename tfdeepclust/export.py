"""SavedModel export in TF Serving's layout: ``<export_dir>/<model_name>/<integer version>/``.

Signatures (all take float32 data in the user's original units; scaling lives in the model):
``serving_default``: ``x`` -> ``cluster_labels`` (int32 [N]), ``probabilities`` (float32 [N, K]);
``embed``: ``x`` -> ``embedding``. A version folder is written to a temporary folder and renamed,
so a server polling the model folder never sees a partial version.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import tensorflow as tf

from tfdeepclust.atomic import atomic_write_dir

METADATA_FILE = "tfdeepclust_metadata.json"


def next_version(model_dir: str | os.PathLike) -> int:
    """1 + the largest integer version folder in ``model_dir`` (1 when there is none)."""
    model_dir = Path(model_dir)
    versions = [
        int(p.name) for p in model_dir.glob("*") if p.is_dir() and re.fullmatch(r"\d+", p.name)
    ]
    return max(versions, default=0) + 1


def export_saved_model(
    model,
    export_dir: str | os.PathLike,
    model_name: str,
    metadata: dict | None = None,
    version: int | None = None,
) -> Path:
    """Exports ``model`` as ``<export_dir>/<model_name>/<version>/`` atomically.

    Args:
        model: A :class:`~tfdeepclust.methods.base.DeepClusteringModel`.
        export_dir: The TF Serving model base path (e.g. ``saved_models``).
        model_name: e.g. ``asc2d_usps``.
        metadata: JSON-able facts (method, data set, metrics, git SHA) saved as an asset.
        version: Version number; the next free one by default. An existing version is never
            overwritten.

    Returns:
        The version folder.
    """
    import keras

    model_dir = Path(export_dir) / model_name
    version = version or next_version(model_dir)
    spec = tf.TensorSpec([None, *model.sample_shape], tf.float32, name="x")

    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(x):
        out = model.predict_step(x)
        return {"cluster_labels": out["labels"], "probabilities": out["probabilities"]}

    def embed(x):
        return {"embedding": model.encoder(x, training=False)}

    archive.add_endpoint("serving_default", serve, input_signature=[spec])
    archive.add_endpoint("embed", embed, input_signature=[spec])
    meta = dict(
        metadata or {},
        input_shape=list(model.sample_shape),
        n_clusters=model.n_clusters,
        method=model.method_name,
    )

    def write(tmp: Path) -> None:
        archive.write_out(str(tmp), verbose=False)
        assets = tmp / "assets"
        assets.mkdir(exist_ok=True)
        (assets / METADATA_FILE).write_text(json.dumps(meta, indent=2, default=str))

    return atomic_write_dir(model_dir / str(version), write)


def read_metadata(version_dir: str | os.PathLike) -> dict:
    """Reads the metadata asset of an exported version folder."""
    return json.loads((Path(version_dir) / "assets" / METADATA_FILE).read_text())
