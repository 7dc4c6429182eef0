"""k-means initialisation of the clustering layer (docs/methods.md §1.4)."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans


def kmeans_init(
    embedding: np.ndarray, n_clusters: int, seed: int, n_init: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """Runs k-means on the embedding of the whole data set.

    ``n_init`` is always explicit: scikit-learn >= 1.4 defaults to ``"auto"`` (one run), which
    silently changes results relative to DEC-keras' ``n_init=20``.

    Returns:
        ``(centres [K, d] float32, labels [N] int64)``.
    """
    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed)
    labels = km.fit_predict(np.asarray(embedding, dtype=np.float64))
    return km.cluster_centers_.astype(np.float32), labels.astype(np.int64)
