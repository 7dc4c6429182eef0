"""ACAI regularisation of auto-encoder pretraining (ADEC Eqs. 8-9, reconstructed; docs/methods.md
§3.2).

Berthelot et al. (2019): a critic regresses the mixing coefficient of decoded latent
interpolations; the auto-encoder is trained to make interpolants look like real data (critic
output 0).
"""

from __future__ import annotations

import keras
from keras import ops

from tfdeepclust.losses.reconstruction import squared_error
from tfdeepclust.losses.reduction import gather_global, global_batch_mean, local_rows, num_replicas


def mse_per_element(x, x_rec):
    """(1 / (B d)) Σ ||x_i - x̂_i||²: reconstruction as a per-element mean (DynAE)."""
    return global_batch_mean(squared_error(x, x_rec, "mean"))


def interpolate(z, alpha):
    """α_i z_i + (1 - α_i) z_π(i) with the partner π(i) = B - 1 - i (the global batch reversed).

    Under a strategy the partner comes from the gathered global batch, so R replicas pair the
    same samples as one device does.
    """
    alpha = ops.reshape(alpha, [-1, 1])
    partner = local_rows(ops.flip(gather_global(z), axis=0), ops.shape(z)[0])
    return alpha * z + (1.0 - alpha) * partner


def acai_autoencoder_loss(x, x_rec, critic_on_interpolants, lam: float = 0.5):
    """Eq. 8: reconstruction + λ · mean(d_ψ(x̂_α)²) (interpolants should fool the critic)."""
    reg = global_batch_mean(ops.square(ops.reshape(critic_on_interpolants, [-1])))
    return mse_per_element(x, x_rec) + lam * reg


def acai_critic_loss(critic_on_interpolants, alpha, critic_on_blend):
    """Eq. 9: mean((d_ψ(x̂_α) - α)²) + mean(d_ψ(γ x + (1 - γ) x̂)²)."""
    a = ops.reshape(alpha, [-1])
    fit = global_batch_mean(ops.square(ops.reshape(critic_on_interpolants, [-1]) - a))
    blend = global_batch_mean(ops.square(ops.reshape(critic_on_blend, [-1])))
    return fit + blend


ALPHA_MODES = ("acai", "uniform")


def sample_alpha(u, mode: str = "uniform"):
    """Mixing coefficients from uniform draws ``u``: ``uniform`` (DynAE, α ∈ [0, 1]) or ``acai``
    (0.5 - |u - 0.5| ∈ [0, 0.5], the ACAI paper)."""
    if mode == "uniform":
        return u
    if mode == "acai":
        return 0.5 - ops.abs(u - 0.5)
    raise ValueError(f"alpha_mode must be one of {ALPHA_MODES}, got {mode!r}")


def draw_alpha(batch, seed_generator, mode: str = "uniform"):
    """Mixing coefficients for this replica's ``batch`` rows, drawn for the global batch and
    sliced, so R replicas mix the pairs :func:`interpolate` forms as one device does."""
    u = keras.random.uniform((batch * num_replicas(),), seed=seed_generator)
    return local_rows(sample_alpha(u, mode), batch)
