"""Helpers shared by the tests: subprocess runs of the project's commands, tiny data."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Narrow ASC2D networks for tests about the run's mechanics (checkpoints, folders, stops): the
# paper's 2000-2000 discriminator makes each iteration ~10x slower.
NARROW_ASC2D = ["--filters", "8", "16", "16", "--disc-hidden", "64"]


# Training scripts run by tests skip the pictures unless a test asks for them: the embedding
# map's UMAP compiles with numba for ~30 s in every fresh process (tests/test_pictures.py
# covers the pictures).
PICTURE_FLAGS = ("--pictures", "--no-pictures")


def load_benchmark(name: str):
    """The module of ``benchmarks/<name>.py`` (the benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_python(*args, cwd=None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python *args`` with the repository on PYTHONPATH; text output captured. A training
    script gets ``--no-pictures`` unless ``args`` has a picture flag or ``--help``."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    args = [str(a) for a in args]
    is_training = args and Path(args[0]).name.startswith("train_")
    if is_training and not any(a in (*PICTURE_FLAGS, "--help", "-h") for a in args):
        args.append("--no-pictures")
    return subprocess.run(
        [sys.executable, *args],
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
