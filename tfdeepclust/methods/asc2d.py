"""ASC2D: adversarial self-supervised clustering with cluster-specificity distribution.

Xia, Zhang, Gao, Gao. Neurocomputing 449 (2021) 38-47. Spec: docs/methods.md §2.

Objective (Eq. 1): min_{enc, dec, mu} max_psi  L_AE + λ1 L_D + L_C + λ2 L_S + λ3 L_CSD, with
D1 = Student-t soft assignment Q (Eq. 3), D2 = DEC target P on the full data (Eq. 4).
One ``train_step`` = ``d_steps`` (3) discriminator updates, then 1 update of encoder + decoder +
centroids (paper §3.3), each optimizer touching only its own explicit variable list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import keras
import tensorflow as tf
from keras import ops

from tfdeepclust.losses.adversarial import (
    GEN_LOSSES,
    check_gen_loss,
    discriminator_loss,
    generator_loss,
)
from tfdeepclust.losses.asc2d import (
    cluster_specificity_loss,
    distribution_consistency_loss,
    reconstruction_loss,
    self_supervision_loss,
)
from tfdeepclust.losses.dec import target_distribution_tensor
from tfdeepclust.losses.reconstruction import REDUCTIONS
from tfdeepclust.losses.reduction import global_batch_mean, update_trackers
from tfdeepclust.methods.base import DeepClusteringModel
from tfdeepclust.nn.clustering import ClusteringLayer
from tfdeepclust.nn.conv_autoencoder import build_conv_autoencoder
from tfdeepclust.nn.discriminators import build_mlp_discriminator
from tfdeepclust.nn.precision import PRECISIONS

LOSS_NAMES = ("loss", "l_ae", "l_c", "l_s", "l_csd", "l_adv", "d_loss", "d_real_acc")


@dataclass
class ASC2DHyperparameters:
    """The ASC2D model's hyperparameters. [PAPER] values from Table 2 / §3.3; the rest are
    [CHOICE]s. Each field's comment is its ``--help`` text (``cli.field_docs``); the recipe's
    config extends this class with the training options.
    """

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "gen_loss": GEN_LOSSES,
        "ae_reduction": REDUCTIONS,
        "disc_precision": PRECISIONS,
    }
    # Range rules beyond "finite, >= 0, counts >= 1" (tfdeepclust.validation).
    POSITIVE: ClassVar[tuple[str, ...]] = ("alpha",)

    lambda1: float = 0.5  # [PAPER] λ1, weight of the adversarial term (Eq. 8)
    lambda2: float = 1e-4  # [PAPER] λ2, weight of L_S = ||Z - D2||² (Eq. 5)
    lambda3: float = 1e-5  # [PAPER] λ3, weight of L_CSD (Eq. 7); 0 = "without l1,2" (Table 6)
    use_discriminator: bool = True  # [PAPER] false = "without D" ablation (Table 5)
    d_steps: int = 3  # [PAPER] discriminator updates per AE update
    # Literal Eq. 8 (min over the encoder of log(1 - D(D1))). The non-saturating -log D(D1) is
    # the alternative; it collapsed USPS from ACC 0.75 to 0.31 in 180 iterations (benchmarks/).
    gen_loss: str = "minimax"
    # [CHOICE] activation of the K-wide embedding: linear (DCEC), or e.g. relu (the paper's text)
    embedding_activation: str = "linear"
    filters: tuple[int, ...] = (32, 64, 128)  # [PAPER] channels of the three convolutions
    disc_hidden: tuple[int, ...] = (2000, 2000)  # [PAPER] discriminator hidden widths
    alpha: float = 1.0  # Student-t degrees of freedom of D1
    # [CHOICE] L_AE as a per-pixel mean (Keras/TF mse). With a per-sample sum, L_AE is ~250x
    # larger and the clustering terms (and the λ2, λ3 the paper tuned) have no measurable effect:
    # ACC stayed at the AE+k-means value (benchmarks/RESULTS.md).
    ae_reduction: str = "mean"
    # [CHOICE] compute precision of the 2000-2000 discriminator: float32; bfloat16 (float32
    # weights and loss); auto = bfloat16 where the CPU has bfloat16 dot products (AVX-512 BF16),
    # where it makes a joint iteration 1.7x faster at the same ACC (benchmarks/RESULTS.md)
    disc_precision: str = "auto"


@keras.saving.register_keras_serializable(package="tfdeepclust")
class ASC2D(DeepClusteringModel):
    """The ASC2D model.

    Args:
        input_shape: ``(H, W, C)`` of one image (any size; see ``build_conv_autoencoder``).
        n_clusters: K; also the embedding width (Z is an "approximately continuous label").
        hp: :class:`ASC2DHyperparameters` (or the recipe's config, which extends it); any of its
            fields may also be given as a keyword, e.g. ``ASC2D(shape, 10, lambda1=0.1)``.

    Example:
        >>> model = ASC2D((16, 16, 1), n_clusters=10)
        >>> model.compile(ae_optimizer=keras.optimizers.Adam(3e-3),
        ...               d_optimizer=keras.optimizers.Adam(1e-3))
        >>> # pretrain, init_centroids(x, seed), attach_targets(len(x)), fit(ds, callbacks=[...])
        >>> labels = model.predict(x_new)
    """

    method_name = "asc2d"

    hyperparameters_cls = ASC2DHyperparameters

    def __init__(self, input_shape, n_clusters: int, hp=None, **kwargs):
        super().__init__(input_shape, n_clusters, hp, **kwargs)
        hp = self.hp
        if len(self.sample_shape) != 3:
            raise ValueError(
                f"ASC2D needs images (H, W, C); got input shape {self.sample_shape}. Use ADEC "
                "for tabular data."
            )
        self.lambda1, self.lambda2, self.lambda3 = (
            float(hp.lambda1),
            float(hp.lambda2),
            float(hp.lambda3),
        )
        self.use_discriminator = bool(hp.use_discriminator)
        self.d_steps = int(hp.d_steps)
        self.gen_loss = check_gen_loss(hp.gen_loss)
        self.filters = tuple(int(f) for f in hp.filters)
        self.disc_hidden = tuple(int(h) for h in hp.disc_hidden)
        # "linear" and None are the same (identity) activation.
        embedding_activation = (
            None if hp.embedding_activation in (None, "linear") else hp.embedding_activation
        )
        self.embedding_activation = embedding_activation
        self.alpha = float(hp.alpha)
        self.ae_reduction = hp.ae_reduction
        disc_precision = hp.disc_precision

        # === Layers ===
        self.encoder, self.decoder = build_conv_autoencoder(
            self.sample_shape, self.n_clusters, self.filters, embedding_activation, name="asc2d"
        )
        self.clustering = ClusteringLayer(self.n_clusters, alpha=self.alpha, name="clustering")
        self.clustering.build((None, self.n_clusters))
        self.disc_precision = disc_precision
        self.discriminator = build_mlp_discriminator(
            self.n_clusters, self.disc_hidden, name="discriminator", precision=disc_precision
        )
        # Soft cluster fractions of the training set (Σ_i q_ij / N) at the end of training: D2 of
        # a new sample is computed with them, so prediction needs no training data.
        self.cluster_fractions = self.add_weight(
            name="cluster_fractions",
            shape=(self.n_clusters,),
            initializer=keras.initializers.Constant(1.0 / self.n_clusters),
            trainable=False,
        )
        self.trackers = {n: keras.metrics.Mean(name=n) for n in LOSS_NAMES}
        self.build_on_dummy()

    # === Optimisers ===
    def compile(self, ae_optimizer=None, d_optimizer=None, **kwargs):
        """Sets the two optimizers (Table 2: Adam 3e-3 for the AE group, 1e-3 for D).

        The AE optimizer is Keras' main ``optimizer`` (so LR callbacks act on it); ``optimizer=``
        is accepted as its alias (Keras passes it when a saved model is recompiled).
        """
        ae_optimizer = ae_optimizer or kwargs.pop("optimizer", None)
        if isinstance(ae_optimizer, (str, dict)):
            ae_optimizer = keras.optimizers.get(ae_optimizer)
        ae_optimizer = ae_optimizer or keras.optimizers.Adam(3e-3, epsilon=1e-8)
        super().compile(optimizer=ae_optimizer, **kwargs)
        self.ae_optimizer = ae_optimizer
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(1e-3, epsilon=1e-8)

    @property
    def ae_variables(self):
        """Encoder + decoder + centroids: the variables of the main update."""
        return (
            self.encoder.trainable_weights
            + self.decoder.trainable_weights
            + self.clustering.trainable_weights
        )

    def optimizers_by_name(self) -> dict:
        return {"ae_optimizer": self.ae_optimizer, "d_optimizer": self.d_optimizer}

    def optimizer_variable_groups(self) -> dict:
        return {
            "ae_optimizer": self.ae_variables,
            "d_optimizer": self.discriminator.trainable_weights,
        }

    @property
    def metrics(self):
        return list(self.trackers.values())

    # === Inference: labels are argmax of D2 (Algorithm 1, l.16) ===
    def assignment_probabilities(self, q):
        return target_distribution_tensor(q, self.cluster_fractions)

    def set_cluster_fractions(self, q_full) -> None:
        """Stores Σ_i q_ij / N of the full training set (called after training)."""
        q_full = ops.convert_to_numpy(q_full)
        self.cluster_fractions.assign(q_full.mean(axis=0))

    # === Training ===
    def _discriminator_updates(self, d2, d1):
        """``d_steps`` updates of D on real = D2 rows, fake = stop-gradient D1 rows."""
        rows = ops.concatenate([d2, d1], axis=0)  # one forward pass for real and fake rows
        b = ops.shape(d2)[0]
        d_loss, real_acc = 0.0, 0.0
        for _ in range(self.d_steps):
            with tf.GradientTape() as tape:
                logits = self.discriminator(rows, training=True)
                d_loss = discriminator_loss(logits[:b], logits[b:])
            weights = self.discriminator.trainable_weights
            self.d_optimizer.apply(tape.gradient(d_loss, weights), weights)
            real_acc = global_batch_mean(ops.cast(logits[:b] > 0, "float32"))
        return d_loss, real_acc

    def train_step(self, data):
        x, sample_id, _ = keras.utils.unpack_x_y_sample_weight(data)
        d2 = tf.gather(self.target_store.p, sample_id)
        with tf.GradientTape() as tape:
            z = self.encoder(x, training=True)
            x_rec = self.decoder(z, training=True)
            d1 = self.clustering(z)
            if self.use_discriminator:
                # D sees D1 of the current encoder (frozen during these updates), so one encoder
                # pass serves both the D updates and the AE update.
                with tape.stop_recording():
                    d_loss, d_acc = self._discriminator_updates(d2, ops.stop_gradient(d1))
                l_adv = generator_loss(self.discriminator(d1, training=False), self.gen_loss)
            else:
                d_loss = d_acc = l_adv = ops.zeros(())
            l_ae = reconstruction_loss(x, x_rec, self.ae_reduction)
            l_c = distribution_consistency_loss(d1, d2)
            l_s = self_supervision_loss(z, d2)
            l_csd = cluster_specificity_loss(z)
            total = l_ae + self.lambda1 * l_adv + l_c + self.lambda2 * l_s + self.lambda3 * l_csd
        variables = self.ae_variables
        self.ae_optimizer.apply(tape.gradient(total, variables), variables)
        values = dict(
            loss=total,
            l_ae=l_ae,
            l_c=l_c,
            l_s=l_s,
            l_csd=l_csd,
            l_adv=l_adv,
            d_loss=d_loss,
            d_real_acc=d_acc,
        )
        return update_trackers(self.trackers, values)
