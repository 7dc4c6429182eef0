"""A pretraining backup small enough to carry to another machine, which continues from it.

Keras' ``BackupAndRestore`` folder (``latest.weights.h5`` + ``training_metadata.json``) holds
float32 weights and every optimizer's moments: ADEC's ACAI pretraining on USPS (auto-encoder +
critic, 4.2 M weights, two Adams) needs ~50 MB, and a long pretraining (130,000 iterations)
spans several jobs that may not land on the same machine. Packed, that backup is 7.8 MB
(measured).
:func:`pack_backup` keeps the weights in float16 (half the bytes, ~3 significant digits) and
only the shapes of the optimizers' state; :func:`unpack_backup` writes a folder that
``BackupAndRestore`` resumes from, with fresh optimizers (zero moments, iteration count 0,
the same learning rate). The continuation is therefore close to, not identical with, the
uninterrupted run; whoever continues from a packed backup should record that they did.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np

BACKUP_WEIGHTS = "latest.weights.h5"
BACKUP_METADATA = "training_metadata.json"
_MANIFEST = "__manifest__"


def _is_optimizer_path(path: str) -> bool:
    """Keras saves each optimizer as a top-level group named after its attribute
    (``optimizer``, ``critic_optimizer``, ...)."""
    return path.split("/", 1)[0].endswith("optimizer")


def pack_weights(
    h5_path: str | os.PathLike, out: str | os.PathLike, extra: dict | None = None
) -> int:
    """Writes a Keras ``.weights.h5`` file as a compressed ``.npz``: float weights in float16
    (exactly where a value exceeds float16's range), other arrays exactly, optimizer arrays as
    shapes only. ``extra`` (JSON) rides along.

    Returns:
        The number of bytes written.
    """
    entries, arrays = [], {}

    def visit(name: str, obj) -> None:
        attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in obj.attrs.items()}
        if isinstance(obj, h5py.Group):
            entries.append({"path": name, "group": True, "attrs": attrs})
            return
        value = obj[()]
        entry = {"path": name, "group": False, "attrs": attrs, "dtype": str(obj.dtype)}
        entry["shape"] = list(obj.shape)
        if _is_optimizer_path(name) and obj.ndim > 0:
            entry["storage"] = "zeros"  # fresh moments: only the shape is needed
        elif (
            np.issubdtype(obj.dtype, np.floating)
            and obj.ndim > 0
            and np.all(np.abs(value) <= np.finfo(np.float16).max)
        ):
            entry["storage"] = "float16"
            arrays[f"a{len(arrays)}"] = np.asarray(value, np.float16)
            entry["key"] = f"a{len(arrays) - 1}"
        else:
            entry["storage"] = "exact"
            if _is_optimizer_path(name) and np.issubdtype(obj.dtype, np.integer):
                value = np.zeros_like(value)  # the iteration count: a fresh optimizer's
            arrays[f"a{len(arrays)}"] = np.asarray(value)
            entry["key"] = f"a{len(arrays) - 1}"
        entries.append(entry)

    with h5py.File(h5_path, "r") as f:
        root_attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
        f.visititems(visit)
    manifest = {"root_attrs": root_attrs, "entries": entries, "extra": extra or {}}
    arrays[_MANIFEST] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{os.getpid()}-{out.name}")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    os.replace(tmp, out)
    return out.stat().st_size


def unpack_weights(packed: str | os.PathLike, h5_path: str | os.PathLike) -> dict:
    """Writes the ``.weights.h5`` file a :func:`pack_weights` archive holds (float32 weights
    from their float16 copies, zero optimizer state). Returns the archive's ``extra``."""
    with np.load(packed, allow_pickle=False) as z:
        manifest = json.loads(bytes(z[_MANIFEST]).decode())
        h5_path = Path(h5_path)
        h5_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = h5_path.with_name(f".tmp-{os.getpid()}-{h5_path.name}")
        with h5py.File(tmp, "w") as f:
            f.attrs.update(manifest["root_attrs"])
            for e in manifest["entries"]:
                if e["group"]:
                    node = f.require_group(e["path"])
                else:
                    if e["storage"] == "zeros":
                        value = np.zeros(e["shape"], e["dtype"])
                    else:
                        value = z[e["key"]].astype(e["dtype"])
                    node = f.create_dataset(e["path"], data=value)
                node.attrs.update(e["attrs"])
        os.replace(tmp, h5_path)
    return manifest["extra"]


def pack_backup(backup_dir: str | os.PathLike, out: str | os.PathLike) -> int:
    """Packs a ``BackupAndRestore`` folder (its weights and the epoch it holds) into ``out``.

    Returns:
        The number of bytes written.
    """
    backup_dir = Path(backup_dir)
    meta = json.loads((backup_dir / BACKUP_METADATA).read_text())
    return pack_weights(backup_dir / BACKUP_WEIGHTS, out, {"training_metadata": meta})


def unpack_backup(packed: str | os.PathLike, backup_dir: str | os.PathLike) -> dict:
    """Writes the ``BackupAndRestore`` folder a :func:`pack_backup` archive holds; a ``fit``
    with that callback then continues from the packed epoch. Returns the training metadata."""
    backup_dir = Path(backup_dir)
    extra = unpack_weights(packed, backup_dir / BACKUP_WEIGHTS)
    meta = extra["training_metadata"]
    (backup_dir / BACKUP_METADATA).write_text(json.dumps(meta))
    return meta
