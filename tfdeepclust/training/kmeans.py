"""k-means initialisation of the clustering layer (METHODS.md §1.4)."""

from __future__ import annotations

import numpy as np


def kmeans_init(
    embedding: np.ndarray, n_clusters: int, seed: int, n_init: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """Runs k-means on the embedding of the whole data set.

    ``n_init`` is always explicit: scikit-learn >= 1.4 defaults to ``"auto"`` (one run), which
    silently changes results relative to DEC-keras' ``n_init=20``.

    Returns:
        ``(centres [K, d] float32, labels [N] int64)``.
    """
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed)
    labels = km.fit_predict(np.asarray(embedding, dtype=np.float64))
    return km.cluster_centers_.astype(np.float32), labels.astype(np.int64)


def initialise_clustering(
    model, x: np.ndarray, y: np.ndarray | None, seed: int, n_init: int = 20
) -> dict:
    """Algorithm step shared by the DEC family: k-means on the embedding of all of ``x`` sets the
    centroids; returns the AE + k-means figures (a baseline every results file records)."""
    labels = model.init_centroids(x, seed, n_init)
    out: dict = {"n_init": n_init}
    if y is not None:
        from tfdeepclust.metrics import supervised_metrics

        out["metrics"] = supervised_metrics(y, labels)
        print(
            f"[init] AE + k-means: ACC {out['metrics']['acc']:.4f} NMI {out['metrics']['nmi']:.4f}",
            flush=True,
        )
    return out
