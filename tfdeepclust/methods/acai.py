"""ACAI pretraining of an auto-encoder (ADEC §4.1; Berthelot et al. 2019; docs/methods.md §3.2)."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfdeepclust.losses.acai import (
    acai_autoencoder_loss,
    acai_critic_loss,
    draw_alpha,
    interpolate,
    mse_per_element,
)
from tfdeepclust.losses.reconstruction import flat
from tfdeepclust.losses.reduction import update_trackers

GAMMA_MODES = ("random", "fixed")


class ACAIAutoencoder(keras.Model):
    """Auto-encoder + critic trained with adversarially constrained interpolation.

    Each ``train_step`` (on an augmented batch; the target is the batch itself) computes the
    reconstructions and decoded interpolants once, then updates the auto-encoder on Eq. 8 and the
    critic on Eq. 9, each with its own optimizer and variable list. Both gradients come from the
    same pre-update state, which equals DynAE's order (the AE step does not touch the critic).

    Args:
        encoder, decoder: The networks being pretrained (decoder outputs flat vectors).
        critic: Maps flat samples to ``[B, m]``; its output is averaged to one scalar [DynAE].
        lam: λ of Eq. 8 (ACAI: 0.5).
        alpha_mode: ``uniform`` (α ~ U[0, 1], DynAE) or ``acai`` (α ∈ [0, 0.5]).
        gamma_mode: ``random`` (one γ = 0.5 - |u - 0.5| per batch, DynAE) or ``fixed``.
        gamma: γ when ``gamma_mode="fixed"`` (ACAI: 0.2).
        seed: Seeds the α / γ draws.
    """

    def __init__(
        self,
        encoder,
        decoder,
        critic,
        lam: float = 0.5,
        alpha_mode: str = "uniform",
        gamma_mode: str = "random",
        gamma: float = 0.2,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.critic = encoder, decoder, critic
        self.lam, self.alpha_mode = float(lam), alpha_mode
        self.gamma_mode, self.gamma = gamma_mode, float(gamma)
        if gamma_mode not in GAMMA_MODES:
            raise ValueError(f"gamma_mode must be one of {GAMMA_MODES}, got {gamma_mode!r}")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("loss", "recon", "critic_loss")}
        # Built up front: Keras' BackupAndRestore (pretraining resume) needs a built model.
        self(ops.zeros((1, *encoder.input.shape[1:])))

    def call(self, x, training=False):
        """The (flat) reconstruction of ``x``."""
        return self.decoder(self.encoder(x, training=training), training=training)

    def compile(self, optimizer=None, critic_optimizer=None, **kwargs):
        """Adam 1e-4 (β 0.9/0.999, ε 1e-8) for both, as in DynAE's notebook."""
        optimizer = optimizer or keras.optimizers.Adam(1e-4, epsilon=1e-8)
        super().compile(optimizer=optimizer, **kwargs)
        self.critic_optimizer = critic_optimizer or keras.optimizers.Adam(1e-4, epsilon=1e-8)
        # Slots now, not inside the (possibly replicated) train step.
        self.optimizer.build(self.encoder.trainable_weights + self.decoder.trainable_weights)
        self.critic_optimizer.build(self.critic.trainable_weights)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def critic_score(self, x_flat):
        return ops.mean(self.critic(x_flat, training=True), axis=-1)

    def draw_coefficients(self, batch):
        """α for this replica's ``batch`` rows (drawn for the global batch, then sliced) and γ."""
        alpha = draw_alpha(batch, self.seed_generator, self.alpha_mode)
        if self.gamma_mode == "random":
            gamma = 0.5 - ops.abs(keras.random.uniform((), seed=self.seed_generator) - 0.5)
        else:
            gamma = ops.convert_to_tensor(self.gamma)
        return alpha, gamma

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        x_flat = flat(x)
        alpha, gamma = self.draw_coefficients(ops.shape(x)[0])
        ae_vars = self.encoder.trainable_weights + self.decoder.trainable_weights
        critic_vars = self.critic.trainable_weights
        with tf.GradientTape(persistent=True) as tape:
            z = self.encoder(x, training=True)
            x_rec = self.decoder(z, training=True)
            x_alpha = self.decoder(interpolate(z, alpha), training=True)
            c_alpha = self.critic_score(x_alpha)
            l_ae = acai_autoencoder_loss(x_flat, x_rec, c_alpha, self.lam)
            blend = gamma * x_flat + (1.0 - gamma) * ops.stop_gradient(x_rec)
            l_crit = acai_critic_loss(c_alpha, alpha, self.critic_score(blend))
        self.optimizer.apply(tape.gradient(l_ae, ae_vars), ae_vars)
        self.critic_optimizer.apply(tape.gradient(l_crit, critic_vars), critic_vars)
        del tape
        values = {"loss": l_ae, "recon": mse_per_element(x_flat, x_rec), "critic_loss": l_crit}
        return update_trackers(self.trackers, values)
