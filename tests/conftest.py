"""Shared fixtures: the offline data folder, a per-session TFDS folder, fixed seeds."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

# A TFDS folder for the whole session (prepared data sets are reused across tests), unless the
# caller already points TFDS somewhere.
if not os.environ.get("TFDEEPCLUST_TFDS_DIR"):
    os.environ["TFDEEPCLUST_TFDS_DIR"] = tempfile.mkdtemp(prefix="tfdeepclust-tfds-")


def shared_data_dir() -> Path | None:
    """The offline data folder: $TFDEEPCLUST_DATA_DIR, else ../shared/data beside the repo."""
    env = os.environ.get("TFDEEPCLUST_DATA_DIR")
    cand = Path(env) if env else REPO.parent / "shared" / "data"
    return cand if (cand / "SHA256SUMS").is_file() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip(
            "offline data folder absent (set TFDEEPCLUST_DATA_DIR or put shared/data "
            "beside the repository)"
        )
    return path


@pytest.fixture(autouse=True)
def _seed():
    import keras

    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield


@pytest.fixture(scope="session")
def usps():
    from tfdeepclust.data import load_dataset

    return load_dataset("usps")


# The longest tests first: pytest-xdist then fills the tail with short tests instead of leaving
# one worker idle while the other finishes a long run (the CI budget is 20 minutes on 2 cores).
_LONG_FIRST = (
    "test_real_runs.py",
    "test_tuning.py::test_random_search",
    "test_train_asc2d_script.py::test_quick_run",
    "test_distribute.py::test_one_step",
    "test_distribute.py::test_two_local_workers",
    "test_resume.py::test_killed_run",
    "test_reproducibility.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        for i, key in enumerate(_LONG_FIRST):
            if key in item.nodeid:
                return i
        return len(_LONG_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order
