"""ADEC: adversarial deep embedded clustering (Mrabah, Bouguessa, Ksantini; IEEE TKDE 2020).

Spec: docs/methods.md §3 (equations 8-15 were lost in the paper's text and are reconstructed there).
Clustering phase, one joint iteration per ``train_step``, each network with its own loss and
optimizer (three SGD + momentum instances):

1. discriminator φ (Eq. 12): real = batch, fake = stop-gradient decoded embeddings;
2. encoder + centroids (Eq. 10): KL(P || Q) + adversarial term (no weight), through the frozen
   decoder;
3. decoder (Eq. 11): reconstruction with the gradient restricted to the decoder;
4. ``n_aux`` auxiliary decoder-only steps on fresh batches.

The paper's baselines share everything but their losses (Table 2: same pretraining,
architecture and optimizers): :class:`DECStar` (KL only) and :class:`IDECStar` (L_r + γ L_c,
encoder + centroids + decoder with one optimizer). The three are subclasses of
:class:`SelfTrainedMLP`; :func:`build_adec_family` picks one by the ``mode`` option.

The input pipeline delivers ``(1 + n_aux) x B`` samples per step, interleaved: rows
``0, 1 + n_aux, ...`` form the joint iteration's batch, rows ``k + 1, k + 1 + (1 + n_aux), ...``
the k-th auxiliary decoder step's. Strided (not contiguous) groups keep the split the same when
``tf.distribute`` cuts the batch into per-replica pieces.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import keras
import tensorflow as tf
from keras import ops

from tfdeepclust.losses.acai import draw_alpha, interpolate, mse_per_element
from tfdeepclust.losses.adversarial import (
    GEN_LOSSES,
    check_gen_loss,
    discriminator_loss,
    generator_loss,
)
from tfdeepclust.losses.dec import kl_clustering_loss
from tfdeepclust.losses.reduction import update_trackers
from tfdeepclust.methods.base import DeepClusteringModel
from tfdeepclust.nn.clustering import ClusteringLayer
from tfdeepclust.nn.mlp_autoencoder import build_mlp, build_mlp_autoencoder

MODES = ("adec", "dec", "idec")
# What the discriminator learns to tell from real data (Eq. 12: "those generated randomly").
DISC_FAKES = ("reconstruction", "interpolation")


@dataclass
class ADECHyperparameters:
    """The ADEC family's model hyperparameters; ⟨R⟩/[REF]/[CHOICE] tags as in docs/methods.md §3.
    A field that does not concern the selected model (``n_aux`` for DEC*) is recorded, unused.
    Each field's comment is its ``--help`` text (``cli.field_docs``); the recipe's config
    extends this class with the training options.
    """

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "mode": MODES,
        "gen_loss": GEN_LOSSES,
        "disc_fakes": DISC_FAKES,
    }
    # Range rules beyond "finite, >= 0, counts >= 1" (tfdeepclust.validation).
    POSITIVE: ClassVar[tuple[str, ...]] = ("alpha",)
    ZERO_MEANS: ClassVar[tuple[str, ...]] = ("n_aux",)

    # adec: the paper's method; dec = DEC*, idec = IDEC* (same pretraining, Table 2 baselines)
    mode: str = "adec"
    latent_dim: int = 10  # [PAPER] embedding width
    hidden: tuple[int, ...] = (500, 500, 2000)  # [PAPER] auto-encoder widths, d-500-500-2000-10
    disc_hidden: tuple[int, ...] = (500, 500, 2000)  # [CHOICE] data-space discriminator widths
    # [PAPER] the paper has no weight on the adversarial term (Eq. 10); other values: ablation
    adv_weight: float = 1.0
    gen_loss: str = "nonsaturating"  # [CHOICE] generator loss: -log D or minimax log(1 - D)
    # [CHOICE] Eq. 12's fakes ("generated randomly"): reconstruction = the batch's decoded
    # embeddings; interpolation = decoded random interpolations of the batch's embeddings (α as
    # in the ACAI pretraining). The encoder's term (Eq. 10) is on the reconstructions either way
    disc_fakes: str = "reconstruction"
    n_aux: int = 5  # [CHOICE] auxiliary decoder-only steps per joint iteration
    idec_gamma: float = 0.01  # [PAPER §5.3.2] IDEC*: L_r + γ L_c
    kernel_initializer: str = "dec_uniform"  # [REF:DEC-keras] U(±sqrt(1/fan_in)); or a Keras name
    alpha: float = 1.0  # Student-t degrees of freedom of the soft assignment


class SelfTrainedMLP(DeepClusteringModel):
    """The part ADEC, DEC* and IDEC* share: the MLP auto-encoder, the Student-t clustering
    layer, the data-space discriminator and three SGD optimizers; subclasses define the encoder
    loss (:meth:`encoder_loss`) and what else a step updates.

    Every subclass builds the same networks (the discriminator too), so a checkpoint of any of
    them has the same layout.

    Args:
        input_shape: Shape of one sample (images are flattened inside the encoder).
        n_clusters: K.
        hp: :class:`ADECHyperparameters` (or the recipe's config, which extends it); any of its
            fields may also be given as a keyword, e.g. ``ADEC(shape, 10, n_aux=1)``.
        seed: Seeds the random draws of a step (ADEC's interpolation coefficients).
    """

    method_name = "adec"
    mode: ClassVar[str]  # the --mode value that selects the class
    tracker_names: ClassVar[tuple[str, ...]]
    n_aux = 0  # auxiliary decoder-only steps per joint iteration (ADEC only)

    hyperparameters_cls = ADECHyperparameters

    def __init__(self, input_shape, n_clusters: int, hp=None, seed: int = 0, **kwargs):
        super().__init__(input_shape, n_clusters, hp, **kwargs)
        self.seed = int(seed)
        # Created by all three so that their checkpoints keep one layout.
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        # The class is the algorithm: its mode is recorded whatever the options said.
        self.hp = hp = dataclasses.replace(self.hp, mode=self.mode)
        self.latent_dim = int(hp.latent_dim)
        self.hidden, self.disc_hidden = tuple(hp.hidden), tuple(hp.disc_hidden)
        self.alpha = float(hp.alpha)
        self.kernel_initializer = kernel_initializer = hp.kernel_initializer

        # === Layers ===
        self.encoder, self.decoder = build_mlp_autoencoder(
            self.sample_shape, self.latent_dim, self.hidden, kernel_initializer, name="adec"
        )
        self.clustering = ClusteringLayer(self.n_clusters, alpha=self.alpha, name="clustering")
        self.clustering.build((None, self.latent_dim))
        self.discriminator = build_mlp(
            self.sample_shape, self.disc_hidden, 1, None, kernel_initializer, name="discriminator"
        )
        self.trackers = {n: keras.metrics.Mean(name=n) for n in self.tracker_names}
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
        """What the encoder optimizer updates: θ_f and μ."""
        return self.encoder.trainable_weights + self.clustering.trainable_weights

    def optimizers_by_name(self) -> dict:
        return {"encoder_optimizer": self.encoder_optimizer}

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
    def encoder_loss(self, x, z, l_kl, logs: dict, tape):
        """The loss of the encoder optimizer's variables, given the batch ``x``, its embedding
        and KL(P || Q); may add terms to ``logs``. ``tape`` records the step (ADEC runs its
        discriminator step outside it)."""
        raise NotImplementedError

    def after_encoder_step(self, tape, x_all, logs: dict) -> None:
        """Updates after the encoder's (ADEC: the decoder's); nothing by default."""

    def train_step(self, data):
        x_all, sample_id, _ = keras.utils.unpack_x_y_sample_weight(data)
        group = 1 + self.n_aux
        x = x_all[::group]
        p = tf.gather(self.target_store.p, sample_id[::group])
        logs = {}
        with tf.GradientTape(persistent=True) as tape:
            z = self.encoder(x, training=True)
            l_kl = kl_clustering_loss(p, self.clustering(z))
            loss = self.encoder_loss(x, z, l_kl, logs, tape)
        variables = self.encoder_variables
        self.encoder_optimizer.apply(tape.gradient(loss, variables), variables)
        self.after_encoder_step(tape, x_all, logs)
        del tape
        logs.update(loss=loss, l_kl=l_kl)
        return update_trackers(self.trackers, logs)

    def self_supervision_loss(self, x, z):
        """FD's ``self`` term: the loss that competes with KL for the encoder (None: none)."""
        return None

    def diagnostic_losses(self, x, p, true_cluster):
        """The losses FR/FD compare (docs/methods.md §3.4), on one forward pass.

        ``train``: the encoder loss; ``sup``: -mean log q of the true label's cluster;
        ``pseudo``: KL(P || Q); ``self``: the adversarial term (ADEC) or reconstruction (IDEC*).
        """
        z = self.encoder(x, training=False)
        q = self.clustering(z)
        l_kl = kl_clustering_loss(p, q)
        picked = tf.gather(q, true_cluster, axis=1, batch_dims=1)
        out = {"pseudo": l_kl, "sup": -ops.mean(ops.log(ops.maximum(picked, 1e-12)))}
        own = self.self_supervision_loss(x, z)
        out["train"] = self.combine(l_kl, own)
        if own is not None:
            out["self"] = own
        return out

    def combine(self, l_kl, own):
        """The encoder loss from KL and :meth:`self_supervision_loss` (for the diagnostics)."""
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        """The class the config's ``mode`` names (configs written before the split have one)."""
        config = dict(config)
        target = MODEL_CLASSES[config.pop("mode", cls.mode)]
        return target(**config)


@keras.saving.register_keras_serializable(package="tfdeepclust")
class DECStar(SelfTrainedMLP):
    """DEC* (ADEC's Table 2 baseline): the encoder and centroids on KL(P || Q) alone."""

    mode = "dec"
    tracker_names = ("loss", "l_kl")

    def encoder_loss(self, x, z, l_kl, logs, tape):
        return l_kl

    def combine(self, l_kl, own):
        return l_kl


@keras.saving.register_keras_serializable(package="tfdeepclust")
class IDECStar(SelfTrainedMLP):
    """IDEC* (ADEC's Table 2 baseline): L_r + γ L_c, encoder + centroids + decoder with one
    optimizer.

    Uses ``hp.idec_gamma``: γ (0.01, ADEC §5.3.2).
    """

    mode = "idec"
    tracker_names = ("loss", "l_kl", "l_rec")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.idec_gamma = float(self.hp.idec_gamma)

    @property
    def encoder_variables(self):
        """θ_f, μ and the decoder (IDEC trains the auto-encoder on both terms)."""
        return super().encoder_variables + self.decoder.trainable_weights

    def encoder_loss(self, x, z, l_kl, logs, tape):
        l_rec = mse_per_element(x, self.decoder(z, training=True))
        logs["l_rec"] = l_rec
        return self.combine(l_kl, l_rec)

    def self_supervision_loss(self, x, z):
        return mse_per_element(x, self.decoder(z, training=False))

    def combine(self, l_kl, own):
        return own + self.idec_gamma * l_kl


@keras.saving.register_keras_serializable(package="tfdeepclust")
class ADEC(SelfTrainedMLP):
    """ADEC's clustering phase (see the module docstring).

    Uses ``hp.adv_weight`` (weight of the adversarial term; the paper has none, 1.0),
    ``hp.gen_loss`` (``nonsaturating`` [CHOICE] or ``minimax``) and ``hp.n_aux`` (auxiliary
    decoder-only steps per joint iteration [CHOICE: 5]).
    """

    mode = "adec"
    tracker_names = ("loss", "l_kl", "l_adv", "l_rec", "d_loss")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.adv_weight = float(self.hp.adv_weight)
        self.gen_loss = check_gen_loss(self.hp.gen_loss)
        self.n_aux = int(self.hp.n_aux)
        if self.hp.disc_fakes not in DISC_FAKES:
            raise ValueError(f"disc_fakes must be one of {DISC_FAKES}, got {self.hp.disc_fakes!r}")
        self.disc_fakes = self.hp.disc_fakes

    def optimizers_by_name(self) -> dict:
        return {
            **super().optimizers_by_name(),
            "decoder_optimizer": self.decoder_optimizer,
            "d_optimizer": self.d_optimizer,
        }

    def encoder_loss(self, x, z, l_kl, logs, tape):
        x_rec = self.decoder(z, training=True)
        logs["l_rec"] = mse_per_element(x, x_rec)
        with tape.stop_recording():  # Eq. 12
            logs["d_loss"] = self._discriminator_step(x, self.discriminator_fakes(z, x_rec))
        fake_logits = self.discriminator(self.as_input(x_rec), training=False)
        logs["l_adv"] = generator_loss(fake_logits, self.gen_loss)
        return self.combine(l_kl, logs["l_adv"])  # Eq. 10

    def after_encoder_step(self, tape, x_all, logs):
        # Eq. 11: the reconstruction gradient reaches only the decoder (the encoder is not a
        # variable here, so it receives none).
        dec_vars = self.decoder.trainable_weights
        self.decoder_optimizer.apply(tape.gradient(logs["l_rec"], dec_vars), dec_vars)
        group = 1 + self.n_aux
        for k in range(self.n_aux):
            self._decoder_step(x_all[k + 1 :: group])

    def self_supervision_loss(self, x, z):
        fake = self.discriminator(self.as_input(self.decoder(z, training=False)), training=False)
        return generator_loss(fake, self.gen_loss)

    def combine(self, l_kl, own):
        return l_kl + self.adv_weight * own

    def warm_up_discriminator(self, batches: tf.data.Dataset, iterations: int) -> dict:
        """Eq. 12 alone for ``iterations`` batches before the joint phase: the discriminator
        learns real against decoded samples while encoder and decoder stay as pretrained.

        Args:
            batches: Yields ``(x, sample_id)`` batches (the clustering phase's pipeline).
            iterations: Discriminator steps.

        Returns:
            ``{"iterations", "d_loss_first", "d_loss_last"}``.
        """

        @tf.function
        def step(x):
            z = self.encoder(x, training=False)
            x_rec = self.decoder(z, training=False)
            return self._discriminator_step(x, self.discriminator_fakes(z, x_rec))

        losses = [float(step(x)) for x, _ in batches.take(iterations)]
        return {"iterations": len(losses), "d_loss_first": losses[0], "d_loss_last": losses[-1]}

    def discriminator_fakes(self, z, x_rec):
        """Eq. 12's generated samples (flat, no gradient) for the batch embedded as ``z`` and
        decoded as ``x_rec``: ``x_rec`` itself, or the decodings of α z_i + (1 - α) z_π(i) with
        α ∈ [0, 0.5] drawn per sample (the ACAI pretraining's interpolants)."""
        if self.disc_fakes == "reconstruction":
            return ops.stop_gradient(x_rec)
        alpha = draw_alpha(ops.shape(z)[0], self.seed_generator, "acai")
        mixed = interpolate(ops.stop_gradient(z), alpha)
        return ops.stop_gradient(self.decoder(mixed, training=False))

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


MODEL_CLASSES: dict[str, type[SelfTrainedMLP]] = {"adec": ADEC, "dec": DECStar, "idec": IDECStar}


def build_adec_family(mode: str, input_shape, n_clusters: int, hp=None, **hyperparameters):
    """The model ``mode`` names (``adec``, ``dec`` or ``idec``), built from ``hp`` (e.g. the
    recipe's config) and keyword hyperparameters; those that do not concern it (``n_aux`` for
    DEC*) are recorded, unused."""
    if mode not in MODEL_CLASSES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return MODEL_CLASSES[mode](input_shape, n_clusters, hp, **hyperparameters)
