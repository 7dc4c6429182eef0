"""Tabular benchmark data: Mice Protein Expression (UCI 342), shipped inside the package."""

from __future__ import annotations

import csv

import numpy as np

from tfdeepclust.data.resources import packaged_file

# Label order of the ADEC author's loader (nairouz/DynAE ``load_mice_protein``), METHODS.md §1.7.
MICE_CLASSES = ("c-CS-s", "c-CS-m", "t-CS-s", "t-CS-m", "c-SC-s", "c-SC-m", "t-SC-s", "t-SC-m")


def load_mice_protein(row_norm: str = "none") -> tuple[np.ndarray, np.ndarray, dict]:
    """Loads Mice Protein as ``[1080, 77]`` float32 and labels 0..7.

    Args:
        row_norm: ``"none"`` (default, the ADEC author's loader: missing cells -> 0, no scaling)
            or ``"unit_l2"`` (the ADEC paper's literal "norm of each data point ≈ 1").

    Returns:
        Features, labels and a provenance dict.
    """
    if row_norm not in ("none", "unit_l2"):
        raise ValueError(f"row_norm must be 'none' or 'unit_l2', got {row_norm!r}")
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
    if row_norm == "unit_l2":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    info = {"missing_cells_zeroed": n_missing, "row_norm": row_norm, "features": len(proteins)}
    return x.astype(np.float32), y, info
