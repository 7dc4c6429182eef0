"""ADEC: adversarial deep embedded clustering (Mrabah, Bouguessa, Ksantini; IEEE TKDE 2020).

Spec: docs/methods.md §3 (equations 8-15 were lost in the paper's text and are reconstructed there).
Clustering phase, one joint iteration per ``train_step``, each network with its own loss and
optimizer (three SGD + momentum instances):

1. discriminator φ (Eq. 12): real = batch, fake = stop-gradient decoded embeddings;
2. encoder + centroids (Eq. 10): KL(P || Q) + adversarial term (no weight), through the frozen
   decoder;
3. decoder (Eq. 11): reconstruction with the gradient restricted to the decoder;
4. ``n_aux`` auxiliary decoder-only steps on fresh batches.

The same class runs the paper's baselines on the same pretraining and architecture (Table 2):
``mode="dec"`` (DEC*: KL only) and ``mode="idec"`` (IDEC*: L_r + γ L_c, encoder + centroids +
decoder with one optimizer).

The input pipeline delivers ``(1 + n_aux) x B`` samples per step, interleaved: rows
``0, 1 + n_aux, ...`` form the joint iteration's batch, rows ``k + 1, k + 1 + (1 + n_aux), ...``
the k-th auxiliary decoder step's. Strided (not contiguous) groups keep the split the same when
``tf.distribute`` cuts the batch into per-replica pieces.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfdeepclust.losses.acai import mse_per_element
from tfdeepclust.losses.adversarial import check_gen_loss, discriminator_loss, generator_loss
from tfdeepclust.losses.dec import kl_clustering_loss
from tfdeepclust.losses.reduction import update_trackers
from tfdeepclust.methods.base import DeepClusteringModel
from tfdeepclust.nn.clustering import ClusteringLayer
from tfdeepclust.nn.mlp_autoencoder import DEC_INIT, build_mlp, build_mlp_autoencoder

MODES = ("adec", "dec", "idec")


@keras.saving.register_keras_serializable(package="tfdeepclust")
class ADEC(DeepClusteringModel):
    """ADEC and its DEC* / IDEC* baselines.

    Args:
        input_shape: Shape of one sample (images are flattened inside the encoder).
        n_clusters: K.
        mode: ``adec`` | ``dec`` (DEC*) | ``idec`` (IDEC*).
        latent_dim: Embedding width (10).
        hidden: Encoder hidden widths (500-500-2000; the decoder mirrors them).
        disc_hidden: Discriminator hidden widths [CHOICE: d-500-500-2000-1].
        adv_weight: Weight of the adversarial term; the paper has none (1.0), ablation only.
        gen_loss: ``nonsaturating`` [CHOICE] or ``minimax``.
        n_aux: Auxiliary decoder-only steps per joint iteration [CHOICE: 5].
        idec_gamma: γ of IDEC*'s L_r + γ L_c (0.01, paper §5.3.2).
        alpha: Student-t degrees of freedom.
        kernel_initializer: ``dec_uniform`` (DEC-keras) or a Keras initializer name.
    """

    method_name = "adec"

    def __init__(
        self,
        input_shape,
        n_clusters: int,
        mode: str = "adec",
        latent_dim: int = 10,
        hidden=(500, 500, 2000),
        disc_hidden=(500, 500, 2000),
        adv_weight: float = 1.0,
        gen_loss: str = "nonsaturating",
        n_aux: int = 5,
        idec_gamma: float = 0.01,
        alpha: float = 1.0,
        kernel_initializer: str = DEC_INIT,
        **kwargs,
    ):
        super().__init__(input_shape, n_clusters, **kwargs)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode, self.latent_dim = mode, int(latent_dim)
        self.hidden, self.disc_hidden = tuple(hidden), tuple(disc_hidden)
        self.adv_weight, self.gen_loss = float(adv_weight), check_gen_loss(gen_loss)
        self.n_aux = int(n_aux) if mode == "adec" else 0
        self.idec_gamma, self.alpha = float(idec_gamma), float(alpha)
        self.kernel_initializer = kernel_initializer

        # === Layers ===
        self.encoder, self.decoder = build_mlp_autoencoder(
            self.sample_shape, self.latent_dim, self.hidden, kernel_initializer, name="adec"
        )
        self.clustering = ClusteringLayer(self.n_clusters, alpha=self.alpha, name="clustering")
        self.clustering.build((None, self.latent_dim))
        self.discriminator = build_mlp(
            self.sample_shape, self.disc_hidden, 1, None, kernel_initializer, name="discriminator"
        )
        names = {
            "adec": ("loss", "l_kl", "l_adv", "l_rec", "d_loss"),
            "dec": ("loss", "l_kl"),
            "idec": ("loss", "l_kl", "l_rec"),
        }[mode]
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.build_on_dummy()

    # === Optimisers ===
    def compile(self, encoder_optimizer=None, decoder_optimizer=None, d_optimizer=None, **kwargs):
        """Three SGD(1e-3, momentum 0.9) by default [DynAE]; ``optimizer=`` aliases the first."""
        sgd = lambda: keras.optimizers.SGD(1e-3, momentum=0.9)  # noqa: E731
        encoder_optimizer = encoder_optimizer or kwargs.pop("optimizer", None) or sgd()
        if isinstance(encoder_optimizer, (str, dict)):
            encoder_optimizer = keras.optimizers.get(encoder_optimizer)
        super().compile(optimizer=encoder_optimizer, **kwargs)
        self.encoder_optimizer = encoder_optimizer
        self.decoder_optimizer = decoder_optimizer or sgd()
        self.d_optimizer = d_optimizer or sgd()

    @property
    def encoder_variables(self):
        """θ_f and μ (IDEC* also trains the decoder with this optimizer)."""
        extra = self.decoder.trainable_weights if self.mode == "idec" else []
        return self.encoder.trainable_weights + self.clustering.trainable_weights + extra

    def optimizers_by_name(self) -> dict:
        opts = {"encoder_optimizer": self.encoder_optimizer}
        if self.mode == "adec":
            opts.update(decoder_optimizer=self.decoder_optimizer, d_optimizer=self.d_optimizer)
        return opts

    def optimizer_variable_groups(self) -> dict:
        return {
            "encoder_optimizer": self.encoder_variables,
            "decoder_optimizer": self.decoder.trainable_weights,
            "d_optimizer": self.discriminator.trainable_weights,
        }

    @property
    def metrics(self):
        return list(self.trackers.values())

    def as_input(self, x_flat):
        """Flat decoder output -> the input shape (what the discriminator takes)."""
        return ops.reshape(x_flat, [-1, *self.sample_shape])

    # === Training ===
    def train_step(self, data):
        x_all, sample_id, _ = keras.utils.unpack_x_y_sample_weight(data)
        group = 1 + self.n_aux
        x = x_all[::group]
        p = tf.gather(self.target_store.p, sample_id[::group])
        logs = {}
        with tf.GradientTape(persistent=True) as tape:
            z = self.encoder(x, training=True)
            q = self.clustering(z)
            l_kl = kl_clustering_loss(p, q)
            if self.mode == "dec":
                loss = l_kl
            else:
                x_rec = self.decoder(z, training=True)
                l_rec = mse_per_element(x, x_rec)
                logs["l_rec"] = l_rec
            if self.mode == "idec":
                loss = l_rec + self.idec_gamma * l_kl
            elif self.mode == "adec":
                with tape.stop_recording():  # Eq. 12: D on real vs the current decoded batch
                    logs["d_loss"] = self._discriminator_step(x, ops.stop_gradient(x_rec))
                fake_logits = self.discriminator(self.as_input(x_rec), training=False)
                l_adv = generator_loss(fake_logits, self.gen_loss)
                loss = l_kl + self.adv_weight * l_adv  # Eq. 10
                logs["l_adv"] = l_adv
        variables = self.encoder_variables
        self.encoder_optimizer.apply(tape.gradient(loss, variables), variables)
        if self.mode == "adec":
            # Eq. 11: the reconstruction gradient reaches only the decoder (the encoder is not a
            # variable here, so it receives none).
            dec_vars = self.decoder.trainable_weights
            self.decoder_optimizer.apply(tape.gradient(l_rec, dec_vars), dec_vars)
            for k in range(self.n_aux):
                self._decoder_step(x_all[k + 1 :: group])
        del tape
        logs.update(loss=loss, l_kl=l_kl)
        return update_trackers(self.trackers, logs)

    def diagnostic_losses(self, x, p, true_cluster):
        """The losses FR/FD compare (docs/methods.md §3.4), on one forward pass.

        ``train``: this mode's encoder loss; ``sup``: -mean log q of the true label's cluster;
        ``pseudo``: KL(P || Q); ``self``: the adversarial term (ADEC) or reconstruction (IDEC*).
        """
        z = self.encoder(x, training=False)
        q = self.clustering(z)
        l_kl = kl_clustering_loss(p, q)
        picked = tf.gather(q, true_cluster, axis=1, batch_dims=1)
        out = {"pseudo": l_kl, "sup": -ops.mean(ops.log(ops.maximum(picked, 1e-12)))}
        if self.mode == "dec":
            out["train"] = l_kl
            return out
        x_rec = self.decoder(z, training=False)
        if self.mode == "idec":
            out["self"] = mse_per_element(x, x_rec)
            out["train"] = out["self"] + self.idec_gamma * l_kl
        else:
            fake = self.discriminator(self.as_input(x_rec), training=False)
            out["self"] = generator_loss(fake, self.gen_loss)
            out["train"] = l_kl + self.adv_weight * out["self"]
        return out

    def _discriminator_step(self, x, x_rec_flat):
        weights = self.discriminator.trainable_weights
        with tf.GradientTape() as tape:
            real = self.discriminator(x, training=True)
            fake = self.discriminator(self.as_input(x_rec_flat), training=True)
            d_loss = discriminator_loss(real, fake)
        self.d_optimizer.apply(tape.gradient(d_loss, weights), weights)
        return d_loss

    def _decoder_step(self, x):
        """One auxiliary decoder-only iteration (Eq. 11 on a fresh batch)."""
        z = ops.stop_gradient(self.encoder(x, training=False))
        weights = self.decoder.trainable_weights
        with tf.GradientTape() as tape:
            l_rec = mse_per_element(x, self.decoder(z, training=True))
        self.decoder_optimizer.apply(tape.gradient(l_rec, weights), weights)

    def get_config(self):
        return {
            **super().get_config(),
            "mode": self.mode,
            "latent_dim": self.latent_dim,
            "hidden": list(self.hidden),
            "disc_hidden": list(self.disc_hidden),
            "adv_weight": self.adv_weight,
            "gen_loss": self.gen_loss,
            "n_aux": self.n_aux,
            "idec_gamma": self.idec_gamma,
            "alpha": self.alpha,
            "kernel_initializer": self.kernel_initializer,
        }
