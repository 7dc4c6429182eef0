"""Typed run configuration: the options every training script shares, and budget presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from tfdeepclust.console import DEFAULT_VERBOSE

# Target refreshes in a row with one cluster holding >= 90 % of the samples that end a
# clustering phase (docs/platform.md §7.6: a collapse ends training, never silently).
DEFAULT_COLLAPSE_PATIENCE = 3


@dataclass
class CommonConfig:
    """Options shared by train_asc2d.py, train_adec.py and train_dfvc.py.

    ``None`` budget fields are filled from the method's budget preset (``budget``).
    """

    dataset: str = "usps"
    data_dir: str | None = None
    tfds_dir: str | None = None
    n_clusters: int | None = None
    image_size: tuple[int, int] | None = None
    label_column: str | None = None
    row_norm: str = "none"
    subset: int | None = None
    seed: int = 0
    batch_size: int = 256
    budget: str = "default"
    pretrain_epochs: int | None = None
    maxiter: int | None = None
    update_interval: int | None = None
    tol: float | None = None  # None: the method's default (recipe.default_tol)
    kmeans_n_init: int = 20
    # stop_reason "collapsed" after this many collapsed refreshes in a row; 0 never stops
    collapse_patience: int = DEFAULT_COLLAPSE_PATIENCE
    # the label-free drift guard (training/drift_guard.py) of the DEC-family clustering phase
    drift_guard: bool = True
    time_limit: float | None = None  # seconds of wall time for the run (training stops first)
    output_dir: str | None = None
    export_dir: str = "saved_models"
    export: bool = True
    pictures: bool = True  # clusters.png, embedding_map.png, confusion_matrix.png
    pretrained: str | None = None
    pretrain_cache_dir: str = "runs/pretrained"
    overwrite: bool = False
    fresh: bool = False
    tensorboard: bool = False
    deterministic: bool = False
    strategy: str = "default"  # tf.distribute strategy: default | mirrored | multiworker
    cpu_replicas: int = 0  # mirrored without GPUs: logical CPU replicas (testing)
    verbose: int = DEFAULT_VERBOSE  # 0 results only, 1 progress lines, 2 everything
    preset: str | None = None  # the named recipe the command line started from (recorded only)
    # Flags set from Python only, e.g. TEMPORARY_OUTPUTS (kept out of the CLI)
    extra: dict = field(default_factory=dict)


# Options that do not change what a run computes (so a resumed run may change them).
NON_RESULT_OPTIONS = (
    "budget",
    "preset",  # its values are recorded in the fields it sets
    "maxiter",
    "collapse_patience",  # like maxiter: a stop rule, so a resumed run may relax it
    "drift_guard",  # a stop rule too: --drift-guard off continues a run it stopped
    "time_limit",  # a stop rule too: a run stopped by it continues with the same command
    "output_dir",
    "export_dir",
    "export",
    "pictures",
    "pretrained",
    "pretrain_cache_dir",
    "overwrite",
    "fresh",
    "tensorboard",
    "verbose",
    # The losses are exact for any replica count, so a run may resume on other hardware.
    "strategy",
    "cpu_replicas",
)


def config_dict(cfg) -> dict:
    """A dataclass as a JSON-able dict."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(cfg).items()}


# ``CommonConfig.extra`` key: the run writes into a folder deleted after it (the scikit-learn
# estimators without ``output_dir``), so its summary names no file.
TEMPORARY_OUTPUTS = "temporary_outputs"
