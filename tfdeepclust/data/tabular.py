"""Tabular benchmark data: Mice Protein Expression (UCI 342, shipped inside the package) and
Reuters-10K (the user's ``reutersidf10k.npy``; not redistributable, not downloadable)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from tfdeepclust.data.dataset import DataError, DataNotFoundError
from tfdeepclust.data.resources import packaged_file

# Label order of the ADEC author's loader (nairouz/DynAE ``load_mice_protein``), docs/methods.md
# §1.7.
MICE_CLASSES = ("c-CS-s", "c-CS-m", "t-CS-s", "t-CS-m", "c-SC-s", "c-SC-m", "t-SC-s", "t-SC-m")


def load_mice_protein() -> tuple[np.ndarray, np.ndarray, dict]:
    """Loads Mice Protein as ``[1080, 77]`` float64 and labels 0..7, as the ADEC author's loader
    does: missing cells -> 0, no scaling (``load_dataset``'s ``row_norm`` may rescale rows).

    Returns:
        Features, labels and a provenance dict.
    """
    with open(packaged_file("Data_Cortex_Nuclear.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    proteins = header[1:78]  # columns 2-78 (1-based): the 77 protein expression levels
    x = np.array(
        [[float(v) if v.strip() else np.nan for v in r[1:78]] for r in body], dtype=np.float64
    )
    n_missing = int(np.isnan(x).sum())
    x = np.nan_to_num(x, nan=0.0)
    class_col = header.index("class")
    index = {c: i for i, c in enumerate(MICE_CLASSES)}
    y = np.array([index[r[class_col]] for r in body], dtype=np.int64)
    info = {"missing_cells_zeroed": n_missing, "features": len(proteins)}
    return x, y, info


REUTERS_FILE = "reutersidf10k.npy"
REUTERS_CLASSES = ("CCAT", "GCAT", "MCAT", "ECAT")  # DEC's label order 0..3


def find_reuters_file(data_dir: str | os.PathLike | None) -> Path:
    """Where the user's ``reutersidf10k.npy`` is: ``data_dir`` or ``data_dir/reuters``.

    Raises:
        DataNotFoundError: With the searched paths and how to make the file (no download is
            attempted: RCV1 is licensed and the 10k subset exists only as DEC's script output).
    """
    from tfdeepclust.data.tfds_source import default_data_dir

    root = default_data_dir(data_dir)
    candidates = (
        [] if root is None else [Path(root) / REUTERS_FILE, Path(root) / "reuters" / REUTERS_FILE]
    )
    for c in candidates:
        if c.is_file():
            return c
    where = ", ".join(str(c) for c in candidates) or "(no --data-dir and no $TFDEEPCLUST_DATA_DIR)"
    raise DataNotFoundError(
        f"reuters10k: {REUTERS_FILE} not found (looked in {where}). Reuters-10K cannot be "
        "downloaded: make it with DEC-keras' make_reuters_data() from the RCV1-v2 files (or copy "
        "the reutersidf10k.npy that DEC, IDEC or DynAE produced) and pass its folder as "
        "--data-dir."
    )


def load_reuters10k(
    data_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Loads Reuters-10K from the user's ``reutersidf10k.npy`` in DEC's format.

    The file is what DEC-keras' ``make_reuters_data`` saves: a pickled dict with ``data``
    (``[N, 2000]`` TF-IDF features already scaled by √2000, so (1/d)·‖x‖² = 1) and ``label``
    (0..3 = CCAT, GCAT, MCAT, ECAT). The features are used as stored (docs/methods.md §1.7).
    Because the format is a pickle, load only a file you made or trust.

    Args:
        data_dir: The folder holding the file (or its ``reuters`` sub-folder); defaults to
            ``$TFDEEPCLUST_DATA_DIR``.

    Returns:
        Features ``[N, D]`` float64, labels, and a provenance dict (``mean_row_norm`` of the
        stored features).

    Raises:
        DataNotFoundError: The file is not there.
        DataError: The file is not DEC's dict of ``data`` and ``label``.
    """
    path = find_reuters_file(data_dir)
    fix = (
        "Expected the file DEC-keras' make_reuters_data() writes: "
        "np.save(path, {'data': x, 'label': y}) with x [N, 2000] and y in 0..3."
    )
    try:
        obj = np.load(path, allow_pickle=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same advice
        raise DataError(f"reuters10k: cannot read {path} ({e}). {fix}") from e
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if not isinstance(obj, dict) or not {"data", "label"} <= set(obj):
        raise DataError(f"reuters10k: {path} holds no dict with 'data' and 'label'. {fix}")
    x = np.asarray(obj["data"].todense() if hasattr(obj["data"], "todense") else obj["data"])
    x = x.reshape(len(x), -1).astype(np.float64)
    y = np.asarray(obj["label"]).reshape(-1).astype(np.int64)
    if len(y) != len(x) or y.min() < 0 or y.max() >= len(REUTERS_CLASSES):
        raise DataError(
            f"reuters10k: {path} has {len(x)} rows and {len(y)} labels in "
            f"[{y.min()}, {y.max()}]. {fix}"
        )
    info = {
        "file": str(path),
        "features": int(x.shape[1]),
        "mean_row_norm": float(np.linalg.norm(x, axis=1).mean()),
    }
    return x, y, info
