"""DEC-family losses: the target distribution (D2 / P) and KL(P || Q)."""

from __future__ import annotations

import numpy as np
from keras import ops

from tfdeepclust.losses.reduction import global_batch_mean

EPS = 1e-12


def target_distribution(q: np.ndarray, frequencies: np.ndarray | None = None) -> np.ndarray:
    """DEC target P from soft assignments Q (docs/methods.md §1.2; ASC2D Eq. 4, ADEC Eq. 3).

    p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'), f_j = Σ_i q_ij over the **full** data set.
    Computed in float64.

    Args:
        q: ``[N, K]`` soft assignments of all samples.
        frequencies: ``[K]`` soft cluster frequencies to use instead of ``q.sum(0)``; lets
            new samples be mapped with the training set's frequencies (ASC2D ``predict``).

    Returns:
        ``[N, K]`` float64, rows summing to 1.
    """
    q = np.asarray(q, dtype=np.float64)
    f = q.sum(axis=0) if frequencies is None else np.asarray(frequencies, dtype=np.float64)
    weight = q**2 / np.maximum(f, EPS)
    return weight / np.maximum(weight.sum(axis=1, keepdims=True), EPS)


def target_distribution_tensor(q, frequencies):
    """Tensor form of :func:`target_distribution` with given frequencies (for exported models)."""
    weight = ops.square(q) / ops.maximum(frequencies, EPS)
    return weight / ops.maximum(ops.sum(weight, axis=1, keepdims=True), EPS)


def kl_divergence(p, q):
    """KL(P || Q) per sample: Σ_j p_ij log(p_ij / q_ij), clipped inside the logs (§1.3).

    Returns:
        ``[B]`` per-sample values; average with :func:`global_batch_mean`.
    """
    p = ops.maximum(p, EPS)
    return ops.sum(p * (ops.log(p) - ops.log(ops.maximum(q, EPS))), axis=-1)


def kl_clustering_loss(p, q):
    """L_KL = (1/B) Σ_i KL(p_i || q_i) over the global batch (ADEC Eq. 2)."""
    return global_batch_mean(kl_divergence(p, q))
