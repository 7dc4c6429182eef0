"""Helpers shared by the tests that run the project's commands in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_python(*args, cwd=None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python *args`` with the repository on PYTHONPATH; text output captured."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
