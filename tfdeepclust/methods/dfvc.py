"""DFVC: decoder-free variational deep embedding (Ji, Sun, Gao, Hu, Yin; IEEE TNNLS 2022).

Spec: docs/methods.md §4. Objective (Eq. 40), minimised by one Adam over every variable:

    L = -(L_DMI + α L_CMI) + β L_VEC + γ L_REG

* L_DMI (Eq. 20): JSD MI estimates I(x, z) + I(x′, z′) + I(z, z′), each a global critic on vector
  pairs plus a local critic on (feature map, vector) pairs; negatives pair sample i with sample
  i + s of the batch (s a random offset in [1, B−1] per step: a derangement).
* L_CMI (Eqs. 37-39): IIC's categorical MI between the two views' K-way head outputs, plus the
  2K-way over-clustering head.
* L_VEC (Eq. 34): Gaussian-mixture prior N(μ_k, I) with uniform weights, sampled z.
* L_REG: KL of the batch's mean assignment to uniform (Table X reading of Eq. 35, §4.4).

A training batch is ``((x, x′), sample_id)``: the two views are made in the ``tf.data`` pipeline
(:func:`tfdeepclust.data.augment.build_view_pair`). Both views go through the encoder in one
forward pass (batch statistics of BN over 2B images). Labels are the argmax of the K-way head on
μ_z of the clean input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfdeepclust.losses.dfvc import (
    REG_MODES,
    VEC_REDUCTIONS,
    cluster_size_regulariser,
    vec_loss,
)
from tfdeepclust.losses.mutual_info import iic_mi, jsd_mi
from tfdeepclust.losses.reduction import (
    gather_global,
    global_batch_mean,
    local_rows,
    num_replicas,
    on_global_batch,
    replica_share,
    update_trackers,
)
from tfdeepclust.methods.base import DeepClusteringModel
from tfdeepclust.nn.conv_autoencoder import build_conv_autoencoder
from tfdeepclust.nn.heads import SoftmaxHeads
from tfdeepclust.nn.mi_critics import PairCritic
from tfdeepclust.nn.precision import PRECISIONS
from tfdeepclust.nn.variational_encoders import (
    TRUNKS,
    build_conv4_encoder,
    build_resnet18_encoder,
    resolve_trunk,
)

# What the heads see in training: the reparameterised sample (Eq. 31) or the mean μ_z.
HEAD_INPUTS = ("sample", "mean")

# [PAPER Table I] (α, β, γ) per data set.
TABLE1_WEIGHTS = {
    "mnist": (2.0, 0.5, 0.1),
    "cifar10": (3.0, 0.2, 0.2),
    "cifar100_20": (3.0, 0.2, 0.2),
    "stl10": (2.0, 0.3, 0.2),
}


@dataclass
class DFVCHyperparameters:
    """The DFVC model's hyperparameters; tags as in docs/methods.md §4 ([PAPER] / [CHOICE]).

    Each field's comment is its ``--help`` text (``cli.field_docs``); the recipe's config extends
    this class with the training options.
    """

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "trunk": TRUNKS,
        "reg_mode": REG_MODES,
        "vec_reduction": VEC_REDUCTIONS,
        "head_input": HEAD_INPUTS,
        "precision": PRECISIONS,
    }
    # Range rules beyond "finite, >= 0, counts >= 1" (tfdeepclust.validation).
    ZERO_MEANS: ClassVar[tuple[str, ...]] = ("overcluster_factor",)

    alpha: float | None = None  # [PAPER Table I] L_CMI weight; None = the data set's value
    beta: float | None = None  # [PAPER Table I] L_VEC weight; None = the data set's value
    gamma: float | None = None  # [PAPER Table I] L_REG weight; None = the data set's value
    latent_dim: int = 64  # [CHOICE] width of z (DIM's default)
    trunk: str = "auto"  # [PAPER §IV-B] encoder: conv4 (grey, <= 64 px), resnet18 (colour)
    filters: tuple[int, ...] = (64, 128, 256, 512)  # [CHOICE] conv4 widths (IIC MNIST trunk)
    base_filters: int = 64  # ResNet-18 stage-1 width
    fc_units: int = 1024  # [CHOICE] width of the conv4 trunk's fully connected layer
    critic_hidden: tuple[int, ...] = (512, 512)  # [CHOICE] MI critics' widths (DIM re-impls)
    use_global: bool = True  # global MI term (Tables V-VII: false = local only)
    use_local: bool = True  # local MI term (Tables V-VII: false = global only)
    use_cmi: bool = True  # L_CMI, categorical MI of the two views' heads (Table V: without)
    use_vec: bool = True  # L_VEC, the Gaussian-mixture prior term (Tables V-VI: without)
    use_reg: bool = True  # L_REG, the cluster-size regulariser (false: Table X ablation)
    overcluster_factor: int = 2  # [PAPER] 2K-way head; 0 = none (Table VIII)
    # [CHOICE] sub-heads per head (IIC's, 1 = the paper's two heads): each is trained alike, the
    # K-way sub-head with the best running I(y, y′) gives the labels (no labels needed)
    subheads: int = 1
    reg_mode: str = "marginal"  # [CHOICE] Table X reading of Eq. 35; per_sample = literal
    recon_weight: float = 0.0  # Table IX: > 0 adds a decoder with this loss weight
    kernel_initializer: str = "he_normal"  # [PAPER]; Table XI: glorot_uniform, random_normal
    vec_head_gradient: bool = True  # L_VEC's gradient reaches the K-way head (Eq. 34 as written)
    # [CHOICE] L_VEC as a mean over latent dims (Eq. 34 sums). With the sum (≈ 20-100 per sample
    # vs MI terms ≤ 3), β L_VEC drowns the MI terms and every run collapsed to 1-2 clusters
    # (benchmarks/RESULTS.md); sum is the literal form.
    vec_reduction: str = "mean"
    # [CHOICE] what the heads see in training: the sampled z (Eq. 31, π = f₂(z)) or μ_z, the
    # input they get at evaluation
    head_input: str = "sample"
    # [CHOICE] compute precision of the encoder trunk and the critics: float32; bfloat16 (float32
    # weights, μ_z, heads and losses); auto = bfloat16 where the CPU has bfloat16 dot products
    precision: str = "float32"


LOSS_NAMES = (
    "loss",
    "l_dmi",
    "mi_global",
    "mi_local",
    "mi_cross",
    "l_cmi",
    "iic_k",
    "iic_2k",
    "iic_k_read",
    "l_vec",
    "l_reg",
    "l_rec",
)


def _iic_per_head(p1, p2):
    """``[H]``: I(y, y′) of each sub-head of ``[B, H, K]`` view outputs, on the global batch."""
    g1, g2 = gather_global(p1), gather_global(p2)
    return ops.stack([iic_mi(g1[:, h], g2[:, h]) for h in range(p1.shape[1])])


def reparameterise(mu, log_var, eps):
    """``z = μ + exp(½ log σ²) ⊙ ε`` (Eq. 28); ``z = μ`` when ``ε = 0``, ``∂z/∂μ = I``."""
    return mu + ops.exp(0.5 * log_var) * eps


@keras.saving.register_keras_serializable(package="tfdeepclust")
class DFVC(DeepClusteringModel):
    """The DFVC model.

    Args:
        input_shape: ``(H, W, C)`` of one image.
        n_clusters: K (the K-way head); the over-clustering head has ``overcluster_factor · K``.
        hp: :class:`DFVCHyperparameters` (or the recipe's config, which extends it); any of its
            fields may also be given as a keyword, e.g. ``DFVC(shape, 10, alpha=3.0)``.
        seed: Seeds the reparameterisation noise and the negative-pair offsets.

    Example:
        >>> model = DFVC((28, 28, 1), n_clusters=10)
        >>> model.compile(optimizer=keras.optimizers.Adam(1e-4))
        >>> model.fit(pair_dataset, steps_per_epoch=...)   # batches ((x, x2), sample_id)
        >>> labels = model.predict(x_new)
    """

    method_name = "dfvc"

    hyperparameters_cls = DFVCHyperparameters

    def __init__(self, input_shape, n_clusters: int, hp=None, seed: int = 0, **kwargs):
        super().__init__(input_shape, n_clusters, hp, **kwargs)
        hp = self.hp
        if len(self.sample_shape) != 3:
            raise ValueError(
                f"DFVC is a convolutional method and needs images (H, W, C); got input shape "
                f"{self.sample_shape}. Use ADEC (train_adec.py) for tabular data."
            )
        if not (hp.use_global or hp.use_local) and not hp.use_cmi:
            raise ValueError("DFVC needs at least one MI term: use_global, use_local or use_cmi.")
        for name, allowed in DFVCHyperparameters.CHOICES.items():
            if getattr(hp, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(hp, name)!r}")
        # None = Table I's MNIST row; the recipe fills the data set's row.
        weights = (hp.alpha, hp.beta, hp.gamma)
        self.alpha, self.beta, self.gamma = (
            float(TABLE1_WEIGHTS["mnist"][i] if w is None else w) for i, w in enumerate(weights)
        )
        self.trunk = resolve_trunk(hp.trunk, self.sample_shape)
        kernel_initializer = hp.kernel_initializer

        # === Layers ===
        if self.trunk == "conv4":
            self.feature_encoder = build_conv4_encoder(
                self.sample_shape,
                self.hp.latent_dim,
                self.hp.filters,
                self.hp.fc_units,
                kernel_initializer,
                precision=hp.precision,
            )
        else:
            self.feature_encoder = build_resnet18_encoder(
                self.sample_shape,
                self.hp.latent_dim,
                self.hp.base_filters,
                self.hp.fc_units,
                kernel_initializer,
                precision=hp.precision,
            )
        # x -> μ_z: the embedding (inference, export's ``embed`` endpoint); shares the weights.
        self.encoder = keras.Model(
            self.feature_encoder.input, self.feature_encoder.outputs[1], name="dfvc_embedding"
        )
        self.clustering = SoftmaxHeads(
            self.n_clusters,
            hp.subheads,
            kernel_initializer=kernel_initializer,
            name="cluster_head",
        )
        self.overcluster_head = (
            SoftmaxHeads(
                self.hp.overcluster_factor * self.n_clusters,
                hp.subheads,
                kernel_initializer=kernel_initializer,
                name="overcluster_head",
            )
            if self.hp.overcluster_factor > 0
            else None
        )
        self.global_critic = PairCritic(self.hp.critic_hidden, hp.precision, name="global_critic")
        self.local_critic = PairCritic(self.hp.critic_hidden, hp.precision, name="local_critic")
        # Means μ_k of the prior p(z|y=k) = N(μ_k, I), [CHOICE] init N(0, I), trained with the rest.
        self.prior_means = self.add_weight(
            name="prior_means",
            shape=(self.n_clusters, self.hp.latent_dim),
            initializer=keras.initializers.RandomNormal(0.0, 1.0),
            trainable=True,
        )
        self.decoder = None
        if self.hp.recon_weight > 0:
            # Only the decoder is used (Table IX: "DFVC + decoder"); the CAE encoder is dropped.
            _, self.decoder = build_conv_autoencoder(self.sample_shape, self.hp.latent_dim)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in LOSS_NAMES}
        # Training-only parts first: by the time Keras builds the model, no sublayer is unbuilt.
        self._build_training_parts()
        self.build_on_dummy()

    def _build_training_parts(self) -> None:
        """Creates the critics' and the extra head's variables (not on the inference path)."""
        c, mu, _ = self.feature_encoder(np.zeros((2, *self.sample_shape), "float32"))
        self.global_critic(mu, mu)
        self.local_critic(c, mu)
        if self.overcluster_head is not None:
            self.overcluster_head(mu)

    # === Inference: labels = argmax of the K-way head on μ_z of the clean image ===
    def call(self, x, training=False):
        return self.clustering(self.encoder(x, training=training))

    # === Training ===
    def _pair_mi(self, u_global, c_map, z, z_neg):
        """Global + local JSD MI between (u, C) and z; negatives use z of other samples."""
        zero = ops.zeros(())
        mi_g = mi_l = zero
        if self.hp.use_global:
            mi_g = jsd_mi(self.global_critic(u_global, z), self.global_critic(u_global, z_neg))
        if self.hp.use_local:
            mi_l = jsd_mi(self.local_critic(c_map, z), self.local_critic(c_map, z_neg))
        return mi_g, mi_l

    def compute_terms(self, x1, x2, training: bool = True) -> dict:
        """Every term of Eq. 40 for one batch of view pairs (differentiable)."""
        b = ops.shape(x1)[0]
        c, mu, log_var = self.feature_encoder(ops.concatenate([x1, x2], 0), training=training)
        # Noise and the negative offset are drawn for the global batch (the replicas share the
        # seed) and sliced, so R replicas compute what one device computes on the same rows.
        b_global = b * num_replicas()
        d = ops.shape(mu)[-1]
        eps = ops.concatenate(
            [
                local_rows(keras.random.normal((b_global, d), seed=self.seed_generator), b),
                local_rows(keras.random.normal((b_global, d), seed=self.seed_generator), b),
            ],
            0,
        )
        z = reparameterise(mu, log_var, eps)
        c1, c2 = c[:b], c[b:]
        mu1, mu2 = mu[:b], mu[b:]
        z1, z2 = z[:b], z[b:]
        # One random offset per step pairs sample i with sample i + s of the global batch
        # (s in [1, B-1]): negatives come from other samples, across replicas too.
        shift = keras.random.randint((), 1, ops.maximum(b_global, 2), seed=self.seed_generator)

        def negatives(v):
            return local_rows(tf.roll(gather_global(v), shift, axis=0), b)

        z1n, z2n = negatives(z1), negatives(z2)

        # I(x, z) and I(x′, z′) (Eqs. 13-16): global critic on (μ_z, z) [CHOICE], local on (C, z).
        g1, l1 = self._pair_mi(mu1, c1, z1, z1n)
        g2, l2 = self._pair_mi(mu2, c2, z2, z2n)
        # I(z, z′) (Eqs. 17-19): global (z, z′); local (C′, z) and (C, z′).
        zero = ops.zeros(())
        gx = lx = zero
        if self.hp.use_global:
            gx = jsd_mi(self.global_critic(z1, z2), self.global_critic(z1, z2n))
        if self.hp.use_local:
            lx = 0.5 * (
                jsd_mi(self.local_critic(c2, z1), self.local_critic(c2, z1n))
                + jsd_mi(self.local_critic(c1, z2), self.local_critic(c1, z2n))
            )
        mi_global, mi_local, mi_cross = g1 + g2, l1 + l2, gx + lx
        l_dmi = mi_global + mi_local + mi_cross

        head_in = z if self.hp.head_input == "sample" else mu
        heads = self.clustering.all_heads(head_in)  # [2B, H, K]; H = 1 without sub-heads
        n_heads = self.clustering.n_heads
        iic_k = iic_2k = iic_k_read = zero
        mi_heads = ops.zeros((n_heads,))
        if self.hp.use_cmi:
            # I(y, y′) of every sub-head; IIC's joint matrix is a statistic of the global batch.
            mi_heads = _iic_per_head(heads[:b], heads[b:])
            iic_k = replica_share(ops.mean(mi_heads))
            iic_k_read = replica_share(ops.take(mi_heads, self.clustering.selected_head()))
            if self.overcluster_head is not None:
                over = self.overcluster_head.all_heads(head_in)
                iic_2k = replica_share(ops.mean(_iic_per_head(over[:b], over[b:])))
        l_cmi = iic_k + iic_2k
        # Both views, averaged [CHOICE] (one call over 2B rows = the mean of the two views);
        # L_VEC is linear in π, so the sub-heads' mean π gives the mean of their terms.
        pi = ops.mean(heads, axis=1)
        pi_vec = pi if self.hp.vec_head_gradient else ops.stop_gradient(pi)
        l_vec = (
            vec_loss(z, log_var, pi_vec, self.prior_means, self.hp.vec_reduction)
            if self.hp.use_vec
            else zero
        )
        l_reg = zero
        if self.hp.use_reg:
            per_head = [
                0.5 * (self._size_reg(heads[:b, h]) + self._size_reg(heads[b:, h]))
                for h in range(n_heads)
            ]
            l_reg = ops.mean(ops.stack(per_head))
        l_rec = zero
        if self.decoder is not None:
            rec = self.decoder(z, training=training)
            err = ops.reshape(rec - ops.concatenate([x1, x2], 0), (2 * b, -1))
            l_rec = global_batch_mean(ops.mean(ops.square(err), axis=1))
        loss = (
            -(l_dmi + self.alpha * l_cmi)
            + self.beta * l_vec
            + self.gamma * l_reg
            + self.hp.recon_weight * l_rec
        )
        return dict(
            loss=loss,
            l_dmi=l_dmi,
            mi_global=mi_global,
            mi_local=mi_local,
            mi_cross=mi_cross,
            l_cmi=l_cmi,
            iic_k=iic_k,
            iic_2k=iic_2k,
            iic_k_read=iic_k_read,
            l_vec=l_vec,
            l_reg=l_reg,
            l_rec=l_rec,
            head_mi=mi_heads,
        )

    def _size_reg(self, pi):
        """L_REG of one view: the marginal form is a statistic of the global batch."""
        if self.hp.reg_mode == "marginal":
            return on_global_batch(cluster_size_regulariser, pi)
        return cluster_size_regulariser(pi, self.hp.reg_mode)

    def train_step(self, data):
        views, _sample_id, _ = keras.utils.unpack_x_y_sample_weight(data)
        x1, x2 = views
        variables = self.trainable_variables
        with tf.GradientTape() as tape:
            terms = self.compute_terms(x1, x2, training=True)
        self.optimizer.apply(tape.gradient(terms["loss"], variables), variables)
        # The sub-heads' running I(y, y′) chooses the head that is read (label-free).
        self.clustering.record(terms.pop("head_mi"))
        # The target store's iteration counter is advanced by the monitoring callback.
        return update_trackers(self.trackers, terms)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
