"""Mutual-information estimators: the JSD lower bound (DIM) and categorical MI (IIC).

Both are **maximised** by DFVC (docs/methods.md §4.2, §4.3); they are returned as MI
estimates, and the method's loss negates them.
"""

from __future__ import annotations

import math

from keras import ops

from tfdeepclust.losses.reduction import global_batch_mean

# IIC clamps probabilities at machine epsilon before taking logs (xu-ji/IIC).
IIC_EPS = 1.1920929e-07


def jsd_mi(positive_scores, negative_scores):
    """The Jensen-Shannon MI estimate (DFVC Eqs. 12-13; DIM Eq. 4), ``<= 0``.

    ``E_pos[log σ(T)] + E_neg[log(1 - σ(T))] = -E_pos[sp(-T)] - E_neg[sp(T)]``; equals
    ``-2 log 2`` when every score is 0, and rises as positive scores rise or negative scores fall.

    Args:
        positive_scores: Critic scores of matched pairs, any shape ``[B, ...]``.
        negative_scores: Critic scores of mismatched pairs, ``[B, ...]``.
    """
    pos = ops.reshape(ops.softplus(-positive_scores), (ops.shape(positive_scores)[0], -1))
    neg = ops.reshape(ops.softplus(negative_scores), (ops.shape(negative_scores)[0], -1))
    # Mean over locations (local critics), then the global-batch mean over samples.
    return -global_batch_mean(ops.mean(pos, axis=1)) - global_batch_mean(ops.mean(neg, axis=1))


def joint_distribution(p1, p2):
    """IIC's symmetric joint ``P = sym(Φ(x)ᵀ Φ(x′) / B)`` (Eq. 38), ``[K, K]``, summing to 1."""
    joint = ops.matmul(ops.transpose(p1), p2) / ops.cast(ops.shape(p1)[0], p1.dtype)
    return (joint + ops.transpose(joint)) / 2.0


def iic_mi(p1, p2, eps: float = IIC_EPS):
    """Categorical MI ``I(y, y′)`` between two views' cluster probabilities (IIC, Eq. 39).

    ``0 <= I <= log K``; ``log K`` for confident, balanced, view-consistent outputs; 0 when every
    sample has the same distribution.

    Args:
        p1: ``[B, K]`` probabilities of the first view.
        p2: ``[B, K]`` probabilities of the second view.
        eps: Floor for the joint and the marginals before the logs.
    """
    joint = joint_distribution(p1, p2)
    pi = ops.sum(joint, axis=1, keepdims=True)
    pj = ops.sum(joint, axis=0, keepdims=True)
    joint_c = ops.maximum(joint, eps)
    return ops.sum(
        joint * (ops.log(joint_c) - ops.log(ops.maximum(pi, eps)) - ops.log(ops.maximum(pj, eps)))
    )


def max_iic(k: int) -> float:
    """The upper bound ``log K`` of :func:`iic_mi`."""
    return math.log(k)
