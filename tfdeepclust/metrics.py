"""Clustering metrics: ACC (Hungarian), NMI (both averagings), ARI, and label-free figures.

NMI averaging: ``nmi`` is the arithmetic mean form (scikit-learn's default since 0.22);
``nmi_geometric`` is √(H(y)H(ŷ)) (Strehl & Ghosh, used by older DEC-family code and ADEC).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score


def cluster_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unsupervised clustering accuracy: best one-to-one map of clusters to classes.

    Builds the contingency matrix (rectangular allowed: K_pred != K_true) and solves the
    assignment with ``scipy.optimize.linear_sum_assignment``.
    """
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_pred)} predictions for {len(y_true)} labels")
    _, yt = np.unique(y_true, return_inverse=True)
    _, yp = np.unique(y_pred, return_inverse=True)
    w = np.zeros((yp.max() + 1, yt.max() + 1), dtype=np.int64)
    np.add.at(w, (yp, yt), 1)
    rows, cols = linear_sum_assignment(w, maximize=True)
    return float(w[rows, cols].sum() / len(y_true))


def hungarian_map(y_true: np.ndarray, y_pred: np.ndarray, n_clusters: int) -> np.ndarray:
    """Returns ``m`` with ``m[cluster] = class`` (or -1 for unmatched clusters)."""
    n_classes = int(np.max(y_true)) + 1
    w = np.zeros((n_clusters, n_classes), dtype=np.int64)
    np.add.at(w, (np.asarray(y_pred), np.asarray(y_true)), 1)
    rows, cols = linear_sum_assignment(w, maximize=True)
    m = np.full(n_clusters, -1, dtype=np.int64)
    m[rows] = cols
    return m


def supervised_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """ACC, NMI (arithmetic, headline), NMI (geometric) and ARI."""
    return {
        "acc": cluster_accuracy(y_true, y_pred),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred, average_method="arithmetic")),
        "nmi_geometric": float(
            normalized_mutual_info_score(y_true, y_pred, average_method="geometric")
        ),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
    }


COLLAPSE_FRACTION = 0.9


def degeneracy(sizes) -> str | None:
    """``"collapsed"`` when one cluster holds >= 90 % of the samples, ``"empty_clusters"`` when a
    cluster is empty, else None (reported in results and logs; never silently ignored)."""
    sizes = np.asarray(sizes)
    if sizes.max() >= COLLAPSE_FRACTION * sizes.sum():
        return "collapsed"
    if (sizes == 0).any():
        return "empty_clusters"
    return None


def label_free_metrics(
    labels: np.ndarray,
    n_clusters: int,
    proba: np.ndarray | None = None,
    embedding: np.ndarray | None = None,
    silhouette_sample: int = 5000,
    seed: int = 0,
) -> dict:
    """Figures that need no ground truth.

    Returns:
        ``cluster_sizes``; ``smallest_cluster_frac`` / ``largest_cluster_frac``; ``empty_clusters``;
        ``degenerate`` (see :func:`degeneracy`);
        ``size_entropy`` (entropy of the cluster-size distribution / log K, 1 = balanced);
        ``assignment_entropy`` (mean per-sample entropy of ``proba`` / log K, 0 = confident);
        ``silhouette`` of ``embedding`` on a seeded sample of at most ``silhouette_sample`` points
        (None when it cannot be computed, e.g. a single non-empty cluster).
    """
    labels = np.asarray(labels, dtype=np.int64)
    sizes = np.bincount(labels, minlength=n_clusters)
    frac = sizes / max(len(labels), 1)
    nz = frac[frac > 0]
    out: dict = {
        "cluster_sizes": sizes.tolist(),
        "smallest_cluster_frac": float(frac.min()),
        "largest_cluster_frac": float(frac.max()),
        "empty_clusters": int((sizes == 0).sum()),
        "size_entropy": float(-(nz * np.log(nz)).sum() / np.log(n_clusters)),
        "degenerate": degeneracy(sizes),
    }
    if proba is not None:
        p = np.clip(np.asarray(proba, dtype=np.float64), 1e-12, 1.0)
        out["assignment_entropy"] = float((-(p * np.log(p)).sum(1)).mean() / np.log(n_clusters))
    out["silhouette"] = None
    if embedding is not None and len(np.unique(labels)) >= 2:
        emb = np.asarray(embedding).reshape(len(labels), -1)
        n = min(silhouette_sample, len(labels))
        idx = np.random.default_rng(seed).choice(len(labels), n, replace=False)
        if len(np.unique(labels[idx])) >= 2:
            out["silhouette"] = float(silhouette_score(emb[idx], labels[idx]))
    return out
