"""DFVC's variational and cluster-size terms: L_VEC (Eq. 34) and L_REG (Eq. 35 / Table X)."""

from __future__ import annotations

from keras import ops

from tfdeepclust.losses.reduction import global_batch_mean

EPS = 1e-12


VEC_REDUCTIONS = ("mean", "sum")
REG_MODES = ("marginal", "per_sample")


def vec_loss(z, log_var, pi, prior_means, reduction: str = "sum"):
    """L_VEC per Eq. 34 (docs/methods.md §4.4), the global-batch mean over samples.

    ``-½ Σ_i log σ²_i + ½ Σ_k π_k ‖z − μ_k‖²`` with the **sampled** ``z`` (its expectation adds
    ``½ Σ σ²``, which keeps σ bounded; with ``μ_z`` the loss is unbounded below).

    Args:
        z: ``[B, d]`` reparameterised samples.
        log_var: ``[B, d]`` encoder log-variances.
        pi: ``[B, K]`` cluster probabilities q(y|z).
        prior_means: ``[K, d]`` means μ_k of the unit-covariance Gaussian-mixture prior.
        reduction: Over latent dimensions: ``"sum"`` (Eq. 34 as printed) or ``"mean"`` (the
            same divided by d, [CHOICE]).
    """
    sq_dist = ops.sum(ops.square(ops.expand_dims(z, 1) - ops.expand_dims(prior_means, 0)), -1)
    per_sample = -0.5 * ops.sum(log_var, axis=-1) + 0.5 * ops.sum(pi * sq_dist, axis=-1)
    if reduction == "mean":
        per_sample = per_sample / ops.cast(ops.shape(z)[-1], per_sample.dtype)
    elif reduction != "sum":
        raise ValueError(f"vec_reduction must be one of {VEC_REDUCTIONS}, got {reduction!r}")
    return global_batch_mean(per_sample)


def cluster_size_regulariser(pi, mode: str = "marginal"):
    """L_REG, ``>= 0``, minimised by uniform cluster use.

    Args:
        pi: ``[B, K]`` cluster probabilities.
        mode: ``"marginal"`` [CHOICE, default]: ``KL(p̄ ‖ U) = Σ p̄ log p̄ + log K`` of the batch's
            mean assignment — the "entropy regularization of the cluster size distribution" of
            Table X; 0 iff cluster use is uniform. ``"per_sample"``: Eq. 35 literally,
            ``mean_i KL(π_i ‖ U)``, which also pushes each sample toward uniform (>= marginal).
    """
    k = ops.cast(ops.shape(pi)[-1], pi.dtype)
    if mode == "marginal":
        p_bar = ops.mean(pi, axis=0)
        return ops.sum(p_bar * ops.log(p_bar + EPS)) + ops.log(k)
    if mode == "per_sample":
        return global_batch_mean(ops.sum(pi * ops.log(pi + EPS), axis=-1) + ops.log(k))
    raise ValueError(f"reg_mode must be one of {REG_MODES}, got {mode!r}")


def expected_vec_loss(mu, log_var, pi, prior_means):
    """E_ε[L_VEC] in closed form (docs/methods.md §5.23), per-sample mean; ``>= d/2``. For tests."""
    sq = ops.sum(ops.square(ops.expand_dims(mu, 1) - ops.expand_dims(prior_means, 0)), -1)
    per = (
        -0.5 * ops.sum(log_var, -1)
        + 0.5 * ops.sum(pi * sq, -1)
        + 0.5 * ops.sum(ops.exp(log_var), -1)
    )
    return ops.mean(per)
