"""The step between pretraining and the clustering phase: initial clusters from the embedding."""

from __future__ import annotations

import numpy as np

from tfdeepclust.metrics import supervised_metrics
from tfdeepclust.training import manifold_init

# kmeans: k-means on the embedding (DEC's step, the papers'); umap_gmm: UMAP + a Gaussian
# mixture on the embedding, which also seeds the first targets (training/manifold_init.py).
INIT_METHODS = ("kmeans", "umap_gmm")


def initialise_clustering(
    model,
    x: np.ndarray,
    y: np.ndarray | None,
    seed: int,
    n_init: int = 20,
    method: str = "kmeans",
) -> dict:
    """Sets the centroids from clusters of the embedding of all of ``x``; returns the figures
    of those initial clusters (a baseline every results file records).

    Args:
        model: A DEC-family model (``init_centroids``, ``clustering``, a target store).
        x, y: All samples; labels only for the printed and recorded figures.
        seed: Seed of the clustering algorithm.
        n_init: k-means restarts (``kmeans`` only).
        method: One of ``INIT_METHODS``.
    """
    if method == "kmeans":
        labels = model.init_centroids(x, seed, n_init)
        out: dict = {"method": method, "n_init": n_init}
        name = "AE + k-means"
    elif method == "umap_gmm":
        # UMAP's first call in a process compiles with numba: say why nothing moves for a while.
        print(
            f"[init] UMAP ({manifold_init.UMAP_COMPONENTS} dimensions) + Gaussian mixture on "
            f"{len(x)} embeddings (about a minute on 2 cores the first time in a process)",
            flush=True,
        )
        labels = manifold_init.initialise_from_manifold(model, x, seed)
        out = {
            "method": method,
            "umap_components": manifold_init.UMAP_COMPONENTS,
            "umap_neighbours": manifold_init.UMAP_NEIGHBOURS,
            "gmm_n_init": manifold_init.GMM_N_INIT,
        }
        name = "AE + UMAP + GMM"
    else:
        raise ValueError(f"init must be one of {INIT_METHODS}, got {method!r}")
    if y is not None:
        out["metrics"] = supervised_metrics(y, labels)
        print(
            f"[init] {name}: ACC {out['metrics']['acc']:.4f} NMI {out['metrics']['nmi']:.4f}",
            flush=True,
        )
    return out
