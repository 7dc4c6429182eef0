"""The container every loader returns, and the data layer's error type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfdeepclust.data.checksums import sha256_arrays


class DataError(ValueError):
    """Bad or missing input data; the message names the problem and the fix."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data set is neither present locally nor downloadable."""


@dataclass
class ClusteringData:
    """A data set ready for clustering.

    Attributes:
        x: float32 images ``[N, H, W, C]`` in [0, 1], or vectors ``[N, D]`` for tabular data.
        y: int64 labels ``[N]`` or None (labels are optional everywhere).
        n_clusters: Number of clusters to look for (the number of classes for benchmarks).
        name: Data-set name used in file names (``usps``, ``mnist``, ``npz_mydata`` ...).
        sha256: SHA-256 over the exact arrays (see ``checksums.sha256_arrays``).
        info: Provenance and preprocessing facts recorded in results (e.g. ``usps_version``;
            ``input_scale``: the factor that took the raw values to ``x``, e.g. 1/255).
        x_extra: Optional extra unlabelled samples (STL-10 ``unlabelled``), never evaluated.
    """

    x: np.ndarray
    y: np.ndarray | None
    n_clusters: int
    name: str
    sha256: str
    info: dict[str, Any] = field(default_factory=dict)
    x_extra: np.ndarray | None = None

    @property
    def is_image(self) -> bool:
        """True for ``[N, H, W, C]`` image data, False for ``[N, D]`` vectors."""
        return self.x.ndim == 4

    @property
    def n_samples(self) -> int:
        return int(self.x.shape[0])

    def subset(self, n: int, seed: int = 0) -> ClusteringData:
        """Returns a uniform random subset of ``n`` samples in canonical order (tests, demos)."""
        if n >= self.n_samples:
            return self
        idx = np.sort(np.random.default_rng(seed).choice(self.n_samples, n, replace=False))
        x, y = self.x[idx], None if self.y is None else self.y[idx]
        info = dict(self.info, subset_of=self.name, subset_seed=seed, subset_size=n)
        return ClusteringData(x, y, self.n_clusters, self.name, sha256_arrays(x, y), info)
