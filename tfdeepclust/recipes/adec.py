"""ADEC as a runner recipe: ACAI pretraining, k-means, adversarial clustering (docs/methods.md
§3)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import keras
import numpy as np

from tfdeepclust.config import CommonConfig
from tfdeepclust.data.pipeline import make_train_dataset, steps_per_epoch
from tfdeepclust.losses.acai import ALPHA_MODES
from tfdeepclust.methods.acai import GAMMA_MODES, ACAIAutoencoder
from tfdeepclust.methods.adec import ADECHyperparameters, build_adec_family
from tfdeepclust.nn.mlp_autoencoder import build_mlp
from tfdeepclust.recipes.base import AUGMENT_MODES, DECFamilyRecipe, self_train
from tfdeepclust.training.diagnostics import FeatureDiagnostics
from tfdeepclust.training.initialisation import INIT_METHODS
from tfdeepclust.training.pretrain import fit_or_load, pretrain_autoencoder

# [CHOICE] ACAI pretraining iterations of the paper budget. 130k is DynAE's, for images. The
# paper's Table 4 bounds the tabular sets' much lower: DEC* took 639 s in all on Mice Protein and
# 53 s on Reuters-10K, against 7,692 s for USPS with 130k iterations (clustering included in
# all three), i.e. at most about 11k and 1k iterations.
# Mice Protein's 5k is measured: ADEC reaches Table 1's ACC from it (benchmarks/RESULTS.md).
PAPER_PRETRAIN_ITERS = {"mice_protein": 5000, "reuters10k": 1000}
DEFAULT_PRETRAIN_ITERS = 130000  # every other data set, the user's included

PRETRAIN_OBJECTIVES = ("acai", "mse")
PRETRAIN_OPTIMIZERS = ("adam", "sgd")
AUTO = "auto"


def default_training(cfg: ADECConfig, is_image: bool) -> dict[str, object]:
    """The values ``auto`` / None training options take: DEC-DA's recipe for images (plain MSE
    on augmented images with SGD(1.0, 0.9), clustering at SGD 0.01), the paper's for tabular data
    (ACAI with Adam 1e-4, clustering at SGD 1e-3 [REF:DynAE]). Explicit values are kept; each
    rate follows the optimizer or objective actually used.

    Why images depart from the paper: its pretraining as read here (ACAI, Adam 1e-4) gives an
    embedding at AE + k-means 0.63-0.70 on USPS even at its full 130,000 iterations, DEC-DA's
    0.94 in 18,500, and from it DEC* reaches the paper's DEC* (benchmarks/RESULTS.md).
    """
    objective = cfg.pretrain_objective
    if objective == AUTO:
        objective = "mse" if is_image else "acai"
    optimizer = cfg.pretrain_optimizer
    if optimizer == AUTO:
        optimizer = "sgd" if objective == "mse" else "adam"
    lr_pretrain = cfg.lr_pretrain
    if lr_pretrain is None:
        lr_pretrain = 1.0 if optimizer == "sgd" else 1e-4
    lr_cluster = cfg.lr_cluster
    if lr_cluster is None:
        lr_cluster = 0.01 if objective == "mse" else 1e-3
    return {
        "pretrain_objective": objective,
        "pretrain_optimizer": optimizer,
        "lr_pretrain": lr_pretrain,
        "lr_cluster": lr_cluster,
    }


@dataclass
class ADECConfig(ADECHyperparameters):
    """ADEC's options: the model's hyperparameters and the training ones; ⟨R⟩/[REF]/[CHOICE]
    tags as in docs/methods.md §3.

    Each field's comment is its ``--help`` text (``cli.field_docs``).
    """

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        **ADECHyperparameters.CHOICES,
        "pretrain_objective": (AUTO, *PRETRAIN_OBJECTIVES),
        "pretrain_optimizer": (AUTO, *PRETRAIN_OPTIMIZERS),
        "alpha_mode": ALPHA_MODES,
        "gamma_mode": GAMMA_MODES,
        "augment": AUGMENT_MODES,
        "init": INIT_METHODS,
    }
    # The paper's text where the default recipe departs from it (``--preset paper``; the results
    # profile lists each of these a run used as a deviation).
    PAPER_VALUES: ClassVar[dict[str, object]] = {
        "mode": "adec",
        "pretrain_objective": "acai",
        "pretrain_optimizer": "adam",
        "lr_pretrain": 1e-4,
        "lr_cluster": 1e-3,
    }
    # Fields that do not change the method (skipped by results.paper_profile).
    OPERATIONAL_FIELDS: ClassVar[tuple[str, ...]] = ("diagnostics_every", "probe_size")
    # Range rules beyond "finite, >= 0, counts >= 1" (tfdeepclust.validation).
    POSITIVE: ClassVar[tuple[str, ...]] = (
        *ADECHyperparameters.POSITIVE,
        "lr_cluster",
        "lr_decoder",
        "lr_disc",
        "lr_pretrain",
        "adam_epsilon",
    )
    ZERO_MEANS: ClassVar[tuple[str, ...]] = (
        *ADECHyperparameters.ZERO_MEANS,
        "diagnostics_every",
        "pretrain_iters",
        "disc_warmup",
    )
    FRACTIONS: ClassVar[tuple[str, ...]] = ("momentum", "pretrain_momentum")

    # [CHOICE] dec (DEC*, the best variant measured: the reconstructed adversarial phase ends
    # below it from every embedding tried, benchmarks/RESULTS.md); adec: the paper's method;
    # idec = IDEC*
    mode: str = "dec"
    # clustering-phase SGD rate for all three networks; None: 0.01 after MSE pretraining
    # [REF:DEC-DA], 1e-3 after ACAI [REF:DynAE]
    lr_cluster: float | None = None
    momentum: float = 0.9  # [REF:DynAE] clustering-phase SGD momentum
    # [CHOICE] per-network overrides of lr_cluster (None: lr_cluster). The paper gives one SGD
    # setting for all three networks; a decoder pretrained at SGD 1.0 lags at 0.01 (RESULTS.md).
    lr_decoder: float | None = None
    lr_disc: float | None = None  # [CHOICE] discriminator rate (None: lr_cluster)
    # [CHOICE] discriminator-only iterations before the ADEC phase (§4.2: the discriminator
    # "should be sufficiently trained before updating the encoder"; its count was lost); 0: none
    disc_warmup: int = 0
    # pretraining iterations when --pretrain-epochs is not given (the paper budget); None: the
    # data set's, 130k for images [REF:DynAE], 5k for Mice Protein, 1k for Reuters-10K [CHOICE]
    pretrain_iters: int | None = None
    # acai [PAPER]: reconstruction + adversarially constrained interpolation; mse: plain
    # reconstruction of augmented inputs (DEC-DA's FcDEC-DA pretraining [REF:DEC-DA]);
    # auto: mse for images, acai for tabular data [CHOICE, measured]
    pretrain_objective: str = AUTO
    # adam [PAPER]; sgd with --lr-pretrain 1 is DEC-DA's SGD(1, 0.9); auto: sgd after mse,
    # adam after acai
    pretrain_optimizer: str = AUTO
    pretrain_momentum: float = 0.9  # SGD pretraining only
    # pretraining rate (auto-encoder and critic); None: 1.0 with SGD [REF:DEC-DA], 1e-4 with
    # Adam [REF:DynAE]
    lr_pretrain: float | None = None
    adam_epsilon: float = 1e-8  # [CHOICE] TF 1.x default
    acai_lambda: float = 0.5  # [REF:acai] weight of the critic term in the AE loss
    # [CHOICE] interpolation coefficient: acai = α ∈ [0, 0.5] as in ACAI; uniform = α ∈ [0, 1]
    # (DynAE). With uniform and the reversed-batch partner, α and 1 - α give the same
    # interpolants, the critic cannot beat predicting 0.5: AE+k-means ACC 0.28 vs 0.64 after
    # 320 iterations on a USPS subset.
    alpha_mode: str = "acai"
    # [PAPER] "randomly selected at every iteration": the critic's blend coefficient γ;
    # random = one γ = 0.5 - |u - 0.5| per batch (DynAE), fixed = acai_gamma (ACAI)
    gamma_mode: str = "random"
    acai_gamma: float = 0.2  # [REF:acai] γ when gamma_mode is fixed
    # auto: random rotation + shift for images (DEC-DA's), none for tabular data
    augment: str = "auto"
    # [PAPER] kmeans: DEC's k-means start; umap_gmm: UMAP + Gaussian mixture on the embedding
    # (N2D's step; its responsibilities are the first interval's targets)
    init: str = "kmeans"
    diagnostics_every: int = 0  # FR/FD every N iterations when labels exist (0: at each refresh)
    probe_size: int = 256  # samples in the fixed batch the FR/FD gradients are measured on
    shuffle: bool = True  # reshuffle the data every epoch


class ADECRecipe(DECFamilyRecipe):
    """ACAI + augmentation pretraining, k-means on the embedding, then the ADEC phase."""

    name = "adec"
    description = (
        "ADEC (Mrabah et al., IEEE TKDE 2020): adversarial deep embedded clustering, with the "
        "DEC* / IDEC* baselines (--mode dec | idec). Reconstructed equations: docs/methods.md §3."
    )
    config_cls = ADECConfig
    budgets = {
        "quick": {"pretrain_epochs": 1, "maxiter": 20, "update_interval": 10},
        # 500 epochs: DEC-DA's; its embedding forms late (USPS AE + k-means 0.785 at 10k
        # iterations, 0.939 at 18.5k = 500 epochs; benchmarks/RESULTS.md)
        "default": {"pretrain_epochs": 500, "maxiter": 3000},
        # pretrain_epochs left unset: ADECConfig.pretrain_iters (per data set) decides.
        "paper": {"maxiter": 100000},
    }

    presets = {
        "paper": {
            "help": "the paper's text where the default departs from it: ADEC's adversarial "
            "phase, ACAI pretraining with Adam 1e-4, clustering at SGD 1e-3 (USPS AE + k-means "
            "0.63-0.70 even after the full 130,000 pretraining iterations, benchmarks/RESULTS.md)",
            "config": dict(ADECConfig.PAPER_VALUES),
        },
        "decda": {
            "help": "DEC-DA's recipe (Guo et al. 2018): plain-MSE pretraining on augmented "
            "images with SGD(1.0, 0.9) for 500 epochs, clustering SGD 0.01: the default for "
            "images; this preset also applies it to tabular data and at every budget",
            "config": {
                "pretrain_objective": "mse",
                "pretrain_optimizer": "sgd",
                "lr_pretrain": 1.0,
                "lr_cluster": 0.01,
            },
            "common": {"pretrain_epochs": 500},
        },
    }

    def build(self, cfg: ADECConfig, common: CommonConfig, data):
        # Checked here so that a typo fails before the (long) pretraining starts.
        if cfg.pretrain_objective not in PRETRAIN_OBJECTIVES:
            raise ValueError(
                f"pretrain_objective must be one of {PRETRAIN_OBJECTIVES}, "
                f"got {cfg.pretrain_objective!r}"
            )
        self.pretrain_optimizer(cfg)
        self.augmenter(cfg, common, data)
        model = build_adec_family(
            cfg.mode, data.x.shape[1:], data.n_clusters, hp=cfg, seed=common.seed
        )

        def sgd(lr: float | None):
            return keras.optimizers.SGD(cfg.lr_cluster if lr is None else lr, momentum=cfg.momentum)

        model.compile(
            encoder_optimizer=sgd(None),
            decoder_optimizer=sgd(cfg.lr_decoder),
            d_optimizer=sgd(cfg.lr_disc),
        )
        return model

    def resolve_config(self, cfg: ADECConfig, common: CommonConfig, data) -> ADECConfig:
        """Fills the data set's pretraining iterations (an explicit --pretrain-iters wins) and
        the ``auto`` / None training options (:func:`default_training`), so results, profile
        and cache key name the values used."""
        return dataclasses.replace(
            cfg,
            pretrain_iters=self._pretrain_iters(cfg, common),
            **default_training(cfg, data.is_image),
        )

    @staticmethod
    def _pretrain_iters(cfg: ADECConfig, common: CommonConfig) -> int:
        if cfg.pretrain_iters is not None:
            return cfg.pretrain_iters
        return PAPER_PRETRAIN_ITERS.get(common.dataset, DEFAULT_PRETRAIN_ITERS)

    def pretrain_epochs(self, cfg: ADECConfig, common: CommonConfig, n: int) -> int:
        if common.pretrain_epochs is not None:
            return common.pretrain_epochs
        return math.ceil(self._pretrain_iters(cfg, common) / math.ceil(n / common.batch_size))

    def pretrain_key(self, cfg: ADECConfig, common: CommonConfig, data) -> dict:
        return {
            "shape": list(data.x.shape[1:]),
            "latent": cfg.latent_dim,
            "hidden": list(cfg.hidden),
            "init": cfg.kernel_initializer,
            "lr": cfg.lr_pretrain,
            "eps": cfg.adam_epsilon,
            "lam": cfg.acai_lambda,
            # Only non-default values enter the key, so caches from before these options stay valid.
            **({"objective": cfg.pretrain_objective} if cfg.pretrain_objective != "acai" else {}),
            **(
                {"opt": cfg.pretrain_optimizer, "momentum": cfg.pretrain_momentum}
                if cfg.pretrain_optimizer != "adam"
                else {}
            ),
            "alpha_mode": cfg.alpha_mode,
            "gamma_mode": cfg.gamma_mode,
            "gamma": cfg.acai_gamma,
            "augment": cfg.augment,
            "pretrain_epochs": self.pretrain_epochs(cfg, common, data.n_samples),
        }

    def pretrain_optimizer(self, cfg: ADECConfig):
        """A fresh pretraining optimizer: Adam(lr, ε) [PAPER] or SGD(lr, momentum) [REF:DEC-DA]."""
        if cfg.pretrain_optimizer == "adam":
            return keras.optimizers.Adam(cfg.lr_pretrain, epsilon=cfg.adam_epsilon)
        if cfg.pretrain_optimizer == "sgd":
            return keras.optimizers.SGD(cfg.lr_pretrain, momentum=cfg.pretrain_momentum)
        raise ValueError(
            f"pretrain_optimizer must be one of {PRETRAIN_OPTIMIZERS}, "
            f"got {cfg.pretrain_optimizer!r}"
        )

    def pretrain(self, model, cfg, common, data, cache_path, callbacks) -> dict:
        epochs = self.pretrain_epochs(cfg, common, data.n_samples)
        iterations = epochs * steps_per_epoch(data.n_samples, common.batch_size)
        if cfg.pretrain_objective == "mse":
            out = pretrain_autoencoder(
                model.encoder,
                model.decoder,
                data.x,
                epochs,
                common.batch_size,
                cfg.lr_pretrain,
                common.seed,
                augmenter=self.augmenter(cfg, common, data),
                cache_path=cache_path,
                verbose=common.verbose,
                callbacks=callbacks,
                optimizer=self.pretrain_optimizer(cfg),
                reduction="mean",  # per-element MSE, as ACAI's reconstruction term
            )
            return {**out, "iterations": iterations}
        d = int(model.decoder.output.shape[-1])
        critic = build_mlp((d,), cfg.hidden, 10, None, cfg.kernel_initializer, name="critic")
        acai = ACAIAutoencoder(
            model.encoder,
            model.decoder,
            critic,
            lam=cfg.acai_lambda,
            alpha_mode=cfg.alpha_mode,
            gamma_mode=cfg.gamma_mode,
            gamma=cfg.acai_gamma,
            seed=common.seed,
        )
        acai.compile(self.pretrain_optimizer(cfg), self.pretrain_optimizer(cfg))
        ds = make_train_dataset(
            data.x, common.batch_size, common.seed, augmenter=self.augmenter(cfg, common, data)
        )
        weights = keras.Model(model.encoder.input, model.decoder(model.encoder.output))
        out = fit_or_load(
            acai,
            weights,
            ds,
            epochs,
            steps_per_epoch(data.n_samples, common.batch_size),
            cache_path,
            common.verbose,
            callbacks,
            x=data.x,
        )
        return {**out, "iterations": iterations}

    def cluster(self, model, cfg, common, data, callbacks, checkpoint=None, history=None) -> dict:
        diag = None
        if data.y is not None:
            probe = np.random.default_rng(common.seed).choice(
                data.n_samples, min(cfg.probe_size, data.n_samples), replace=False
            )
            diag = FeatureDiagnostics(
                data.x, data.y, np.sort(probe), cfg.diagnostics_every or common.update_interval
            )
        warmup = None
        if cfg.disc_warmup and model.mode == "adec" and history is None:  # not on a resume
            batches = make_train_dataset(
                data.x,
                common.batch_size,
                common.seed,
                augmenter=self.augmenter(cfg, common, data),
            )
            warmup = model.warm_up_discriminator(batches, cfg.disc_warmup)
            print(
                f"[cluster] discriminator warm-up: {cfg.disc_warmup} iterations, d_loss "
                f"{warmup['d_loss_first']:.3f} -> {warmup['d_loss_last']:.3f}",
                flush=True,
            )
        # Each step takes (1 + n_aux) batches: one joint iteration + the auxiliary decoder steps.
        out = self_train(
            self,
            model,
            common,
            data,
            [*callbacks, *([diag] if diag else [])],
            checkpoint,
            history,
            batch_size=common.batch_size * (1 + model.n_aux),
            shuffle=cfg.shuffle,
            augmenter=self.augmenter(cfg, common, data),
        )
        out["diagnostics"] = diag.history_ if diag else []
        if warmup is not None:
            out["disc_warmup"] = warmup
        return out


RECIPE = ADECRecipe()
__all__ = ["RECIPE", "ADECConfig", "ADECRecipe"]
