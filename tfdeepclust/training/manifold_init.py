"""Initial clusters from the manifold of the pretrained embedding: UMAP, then a Gaussian mixture.

N2D's step (McConville et al., ICPR 2020): k-means on an auto-encoder's embedding finds convex
groups, while the digits lie on curved manifolds in it; UMAP to a few dimensions with
``min_dist=0`` packs each manifold into a tight blob that a full-covariance Gaussian mixture
separates. It is label-free and replaces only the k-means step before the clustering phase.

The clusters reach the clustering layer in two ways (``initialise_from_manifold``):

* the centroids are the clusters' responsibility-weighted means in the embedding, which is what
  a Student-t kernel can represent of them;
* the first target distribution is the mixture's responsibilities, so the first refresh interval
  trains the encoder towards the manifold clusters instead of towards the Student-t reading of
  them (which starts several points lower; measured on USPS in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import warnings

import numpy as np

# UMAP to 10 dimensions with 20 neighbours and min_dist 0, then a full-covariance mixture:
# N2D's settings for image sets; 10 mixture starts, since single starts vary by several points.
UMAP_COMPONENTS = 10
UMAP_NEIGHBOURS = 20
GMM_N_INIT = 10


def umap_gmm_clusters(
    embedding: np.ndarray,
    n_clusters: int,
    seed: int,
    n_components: int = UMAP_COMPONENTS,
    n_neighbors: int = UMAP_NEIGHBOURS,
    gmm_n_init: int = GMM_N_INIT,
) -> tuple[np.ndarray, np.ndarray]:
    """Clusters ``embedding`` [N, d] with UMAP + a full-covariance Gaussian mixture.

    Returns:
        ``(labels [N] int64, responsibilities [N, K] float32)``.
    """
    import umap
    from sklearn.mixture import GaussianMixture

    z = np.asarray(embedding, dtype=np.float32)
    n_neighbors = min(n_neighbors, len(z) - 1)
    n_components = min(n_components, len(z) - 2)
    with warnings.catch_warnings():
        # UMAP warns that a fixed random_state runs single-threaded: that is what we ask for.
        warnings.filterwarnings("ignore", message=".*random_state.*", category=UserWarning)
        reducer = umap.UMAP(
            n_components=n_components,
            n_neighbors=n_neighbors,
            min_dist=0.0,
            random_state=seed,
            n_jobs=1,
        )
        u = reducer.fit_transform(z)
    gmm = GaussianMixture(
        n_clusters, covariance_type="full", n_init=gmm_n_init, random_state=seed
    ).fit(u)
    resp = gmm.predict_proba(u).astype(np.float32)
    return resp.argmax(axis=1).astype(np.int64), resp


def weighted_centres(embedding: np.ndarray, resp: np.ndarray) -> np.ndarray:
    """Responsibility-weighted means ``[K, d]`` of the embedding (no empty cluster divides by 0:
    a mixture component's total responsibility is > 0)."""
    z = np.asarray(embedding, dtype=np.float64)
    w = np.asarray(resp, dtype=np.float64)
    return ((w.T @ z) / np.maximum(w.sum(axis=0), 1e-12)[:, None]).astype(np.float32)


def initialise_from_manifold(model, x: np.ndarray, seed: int) -> np.ndarray:
    """Sets ``model``'s centroids and first targets from UMAP + GMM clusters of its embedding.

    The targets go to the model's target store (attached here when the caller has not yet);
    the refresh at iteration 0 keeps targets found there (``TargetRefresh``). Every worker of a
    multi-worker run takes the chief's.

    Returns:
        The clusters' labels ``[N]``.
    """
    from tfdeepclust.distribute import agree_with_chief

    strategy = model.distribute_strategy
    z = model.embed(x)
    _, resp = umap_gmm_clusters(z, model.n_clusters, seed)
    resp = agree_with_chief(resp, strategy)  # the labels follow from the chief's responsibilities
    labels = resp.argmax(axis=1).astype(np.int64)
    model.clustering.set_centroids(weighted_centres(z, resp))
    store = model.__dict__.get("_target_store") or model.attach_targets(len(x))
    store.p.assign(resp)
    store.labels_prev.assign(labels)
    return labels


__all__ = ["initialise_from_manifold", "umap_gmm_clusters", "weighted_centres"]
