"""The results JSON every run writes: provenance (versions, git SHA, data checksum) + metrics."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path


def git_sha(cwd: str | os.PathLike | None = None) -> str | None:
    """The commit of the working tree (``+dirty`` when it has uncommitted changes), or None."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions() -> dict[str, str | None]:
    """Versions of Python and the libraries that determine results."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for pkg in (
        "tensorflow",
        "keras",
        "tensorflow-datasets",
        "numpy",
        "scipy",
        "scikit-learn",
        "keras-tuner",
        "tfdeepclust",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def machine_info() -> dict:
    """CPU/OS facts for reading wall times."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
    }
