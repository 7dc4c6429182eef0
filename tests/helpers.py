"""Helpers shared by the tests: subprocess runs of the project's commands, tiny data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Narrow ASC2D networks for tests about the run's mechanics (checkpoints, folders, stops): the
# paper's 2000-2000 discriminator makes each iteration ~10x slower.
NARROW_ASC2D = ["--filters", "8", "16", "16", "--disc-hidden", "64"]


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


def tiny_images(n: int = 64, seed: int = 0, side: int = 8):
    """``n`` noisy ``side``×``side`` images of two kinds of bars (labels 0/1), K = 2."""
    import numpy as np

    from tfdeepclust.data.dataset import ClusteringData

    rng = np.random.default_rng(seed)
    x = np.zeros((n, side, side, 1), "float32")
    for i in range(n):  # two kinds of blobs, so reconstruction has something to learn
        r = 2 + 3 * (i % 2)
        x[i, r : r + 2, 1 : side - 1] = 1.0
    x += 0.05 * rng.random(x.shape, dtype=np.float32)
    return ClusteringData(np.clip(x, 0, 1), np.arange(n) % 2, 2, "tiny", "0" * 64)
