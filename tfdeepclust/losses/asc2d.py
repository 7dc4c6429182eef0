"""ASC2D's loss terms (Xia et al. 2021, Eqs. 2, 5, 6, 7), per sample, summed over features."""

from __future__ import annotations

from keras import ops

from tfdeepclust.losses.reconstruction import squared_error
from tfdeepclust.losses.reduction import global_batch_mean


def reconstruction_loss(x, x_rec, reduction: str = "sum"):
    """L_AE (Eq. 2): (1/B) Σ_i ||x_i - x̂_i||², mean over the global batch.

    Args:
        reduction: ``"sum"`` over pixels per sample (Eq. 2 as written, [CHOICE] default) or
            ``"mean"`` over pixels (Keras ``mse``; divides the term by the pixel count, which
            raises the relative weight of every clustering term by that factor).
    """
    return global_batch_mean(squared_error(x, x_rec, reduction))


def distribution_consistency_loss(d1, d2):
    """L_C (Eq. 6): (1/B) Σ_i ||d1_i - d2_i||², in [0, 2] per sample."""
    return global_batch_mean(ops.sum(ops.square(d1 - d2), axis=1))


def self_supervision_loss(z, d2):
    """L_S (Eq. 5): (1/B) Σ_i ||z_i - d2_i||² (needs embedding width = K)."""
    return global_batch_mean(ops.sum(ops.square(z - d2), axis=1))


def cluster_specificity_loss(z):
    """L_CSD (Eq. 7): (1/B) Σ_i (Σ_j |z_ij|)², the squared ℓ1,2 norm of Z per sample."""
    return global_batch_mean(ops.square(ops.sum(ops.abs(z), axis=1)))
