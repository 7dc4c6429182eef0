"""SHA-256 helpers for files and arrays."""

from __future__ import annotations

import hashlib
import os

import numpy as np


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Returns the hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_arrays(*arrays: np.ndarray | None) -> str:
    """Returns a SHA-256 over the dtype, shape and bytes of each array (``None`` is skipped).

    This identifies exactly the data a model saw (values and order), whatever file it came from.
    """
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


class ChecksumError(ValueError):
    """A file's SHA-256 differs from the expected value."""


def verify_sha256(path: str | os.PathLike, expected: str, what: str) -> None:
    """Raises :class:`ChecksumError` naming the file and the fix when the checksum differs."""
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumError(
            f"{what}: checksum mismatch for {path} (sha256 {actual}, expected {expected}). "
            "The file is corrupted or a different version; replace it with the official file."
        )
