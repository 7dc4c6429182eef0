"""Atomic file and folder writes: a reader never sees a half-written result."""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def atomic_write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> Path:
    """Writes ``data`` to ``path`` through a temporary file in the same folder, then renames.

    Args:
        path: Destination file.
        data: Content.
        overwrite: If False and ``path`` exists, raise ``FileExistsError`` instead of replacing it.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and path.exists():
        raise FileExistsError(
            f"{path} already exists; pass an overwrite option or choose another output path."
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = True) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def atomic_save_npy(path: str | os.PathLike, array, overwrite: bool = True) -> Path:
    """``np.save`` through :func:`atomic_write_bytes` (the path is used as given, no ``.npy``
    appended)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array))
    return atomic_write_bytes(path, buf.getvalue(), overwrite=overwrite)


def atomic_save_npz(path: str | os.PathLike, overwrite: bool = True, **arrays) -> Path:
    """``np.savez_compressed`` through :func:`atomic_write_bytes` (the path as given)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue(), overwrite=overwrite)


def atomic_save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Saves a matplotlib figure as PNG through :func:`atomic_write_bytes`."""
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format="png")
    return atomic_write_bytes(path, buf.getvalue())


def _json_default(obj: Any) -> Any:
    # NumPy scalars/arrays and Paths show up in configs and metrics.
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def atomic_write_json(path: str | os.PathLike, data: Any, overwrite: bool = True) -> Path:
    """Writes ``data`` as indented JSON atomically (see :func:`atomic_write_text`)."""
    text = json.dumps(data, indent=2, sort_keys=False, default=_json_default, allow_nan=True)
    return atomic_write_text(path, text + "\n", overwrite=overwrite)


def atomic_write_dir(final_dir: str | os.PathLike, writer: Callable[[Path], None]) -> Path:
    """Builds a folder with ``writer(tmp_dir)`` beside ``final_dir``, then renames it into place.

    A watcher of the parent folder (e.g. TF Serving polling for versions) never sees a partial
    folder; if ``writer`` raises, the temporary folder is removed and ``final_dir`` is untouched.

    Raises:
        FileExistsError: If ``final_dir`` already exists (nothing is overwritten).
    """
    final_dir = Path(final_dir)
    if final_dir.exists():
        raise FileExistsError(f"{final_dir} already exists; refusing to overwrite it.")
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}.tmp-", dir=final_dir.parent))
    try:
        writer(tmp)
        os.rename(tmp, final_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final_dir
