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
