"""ASC2D's Algorithm 1 as a runner recipe, with its hyperparameters (docs/methods.md §2.5)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import keras

from tfdeepclust.config import CommonConfig
from tfdeepclust.losses.dec import target_distribution
from tfdeepclust.methods.asc2d import ASC2D, ASC2DHyperparameters
from tfdeepclust.nn.precision import resolve_precision
from tfdeepclust.recipes.base import AUGMENT_MODES, DECFamilyRecipe, require_images, self_train
from tfdeepclust.training.initialisation import INIT_METHODS
from tfdeepclust.training.pretrain import pretrain_autoencoder


@dataclass
class ASC2DConfig(ASC2DHyperparameters):
    """ASC2D's options: the model's hyperparameters and the training ones. [PAPER] values from
    Table 2 / §3.3; the rest are [CHOICE]s.

    Each field's comment is its ``--help`` text (``cli.field_docs``).
    """

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        **ASC2DHyperparameters.CHOICES,
        "augment": AUGMENT_MODES,
        "init": INIT_METHODS,
    }
    # The paper's text where the default recipe departs from it (``--preset paper``; the
    # results profile lists each of these a run used as a deviation).
    PAPER_VALUES: ClassVar[dict[str, object]] = {
        "augment": "none",
        "lr_pretrain": 3e-3,
        "init": "kmeans",
        "disc_precision": "float32",  # not in the text; its GPUs computed in float32
    }
    # Range rules beyond "finite, >= 0, counts >= 1" (tfdeepclust.validation).
    POSITIVE: ClassVar[tuple[str, ...]] = (
        *ASC2DHyperparameters.POSITIVE,
        "lr_pretrain",
        "lr_ae",
        "lr_disc",
        "adam_epsilon",
    )
    ZERO_MEANS: ClassVar[tuple[str, ...]] = ("init_target_intervals",)

    # [CHOICE] Adam rate of the auto-encoder pretraining (paper: 3e-3). ConvDEC-DA's 1e-3 with
    # augmentation; at 3e-3 the augmented CAE's embedding gained later (benchmarks/RESULTS.md).
    lr_pretrain: float = 1e-3
    lr_ae: float = 3e-3  # [PAPER] Adam rate of encoder + decoder + centroids
    lr_disc: float = 1e-3  # [PAPER] Adam rate of the discriminator
    adam_epsilon: float = 1e-8  # [CHOICE] TF 1.13 default (the paper's platform)
    shuffle: bool = True  # [CHOICE] reshuffle every epoch
    # [CHOICE] dec (or auto): DEC-DA's rotation ±10° + shift ±10 % on pretraining and
    # clustering batches (ConvDEC-DA's; the paper names augmentation as future work). none: the
    # paper's. Without it the embedding's clusters stay at ACC ~0.75 on USPS (RESULTS.md).
    augment: str = "dec"
    # [CHOICE] initial clusters: umap_gmm = UMAP + Gaussian mixture on the embedding (N2D's
    # step), which also gives the first targets; kmeans = k-means, the paper's step
    init: str = "umap_gmm"
    # with init umap_gmm: refresh intervals during which the mixture's responsibilities stay the
    # targets (D2) before Eq. 4's targets take over; 0 = Eq. 4 from the first refresh
    init_target_intervals: int = 5


class ASC2DRecipe(DECFamilyRecipe):
    """Pretrain the CAE, k-means on Z, then the adversarial self-training phase."""

    name = "asc2d"
    description = (
        "ASC2D (Xia et al., Neurocomputing 2021): adversarial self-supervised clustering with "
        "cluster-specificity distribution. The default recipe is the paper's losses and "
        "hyperparameters with an augmented pretraining and UMAP + GMM initial clusters; "
        "--preset paper is the paper's text."
    )
    config_cls = ASC2DConfig
    budgets = {
        # The whole pipeline in well under a minute: a smoke run, not a result.
        "quick": {"pretrain_epochs": 2, "maxiter": 30, "update_interval": 10},
        # The README quickstart: a few minutes on 2 CPU cores on USPS.
        "default": {"pretrain_epochs": 50, "maxiter": 300},
        # The reproduction budget: DCEC's 200 pretraining epochs, maxiter 2e4 with tol stop.
        "paper": {"pretrain_epochs": 200, "maxiter": 20000},
    }

    presets = {
        "paper": {
            "help": "the paper's text where the default departs from it: no augmentation, "
            "pretraining at Adam 3e-3, k-means initialisation (USPS ACC 0.780 ± 0.021 over 3 "
            "seeds at the paper budget, benchmarks/RESULTS.md)",
            "config": dict(ASC2DConfig.PAPER_VALUES),
        },
        "convdecda": {
            "help": "ConvDEC-DA's pretraining (Guo et al. 2018): 500 epochs on augmented images "
            "(rotation ±10°, shift ±10 %) with Adam 1e-3, and augmented clustering batches; "
            "ASC2D's losses and rates otherwise. An extension: on USPS seed 0 it took the "
            "AE + k-means ACC from 0.75 to 0.93 and ASC2D to 0.984 (benchmarks/RESULTS.md)",
            "config": {"augment": "dec", "lr_pretrain": 1e-3, "init": "kmeans"},
            "common": {"pretrain_epochs": 500},
        },
    }

    def resolve_config(self, cfg: ASC2DConfig, common: CommonConfig, data) -> ASC2DConfig:
        """Resolves ``disc_precision=auto`` to what this CPU runs, so results, profile and
        resume fingerprint name the precision actually used."""
        return dataclasses.replace(cfg, disc_precision=resolve_precision(cfg.disc_precision))

    def build(self, cfg: ASC2DConfig, common: CommonConfig, data):
        require_images(data, "ASC2D")
        self.augmenter(cfg, common, data)  # a bad --augment fails before the pretraining
        model = ASC2D(data.x.shape[1:], data.n_clusters, hp=cfg)
        model.compile(
            ae_optimizer=keras.optimizers.Adam(cfg.lr_ae, epsilon=cfg.adam_epsilon),
            d_optimizer=keras.optimizers.Adam(cfg.lr_disc, epsilon=cfg.adam_epsilon),
        )
        return model

    def pretrain_key(self, cfg: ASC2DConfig, common: CommonConfig, data) -> dict:
        """Everything that determines the pretrained weights (the cache key; tuning trials that
        change only clustering-phase settings share one pretraining)."""
        return {
            "shape": list(data.x.shape[1:]),
            "k": data.n_clusters,
            "filters": list(cfg.filters),
            "act": cfg.embedding_activation,
            "lr": cfg.lr_pretrain,
            "eps": cfg.adam_epsilon,
            # Only a non-default value enters the key, so existing caches stay valid.
            **({"augment": cfg.augment} if cfg.augment != "none" else {}),
        }

    def pretrain(self, model, cfg, common, data, cache_path, callbacks) -> dict:
        return pretrain_autoencoder(
            model.encoder,
            model.decoder,
            data.x,
            common.pretrain_epochs,
            common.batch_size,
            cfg.lr_pretrain,
            common.seed,
            epsilon=cfg.adam_epsilon,
            augmenter=self.augmenter(cfg, common, data),
            cache_path=cache_path,
            verbose=common.verbose,
            callbacks=callbacks,
        )

    def cluster(self, model, cfg, common, data, callbacks, checkpoint=None, history=None) -> dict:
        return self_train(
            self,
            model,
            common,
            data,
            callbacks,
            checkpoint,
            history,
            shuffle=cfg.shuffle,
            augmenter=self.augmenter(cfg, common, data),
            keep_initial_targets=cfg.init_target_intervals * common.update_interval,
        )

    def finalize(self, model, cfg, common, data) -> dict:
        """Labels = argmax of D2 on all data with the final weights (Algorithm 1, l.16)."""
        out = model.infer(data.x)
        model.set_cluster_fractions(out["q"])
        d2 = target_distribution(out["q"])
        return {
            "labels": d2.argmax(axis=1),
            "labels_q": out["q"].argmax(axis=1),
            "probabilities": d2,
            "embedding": out["embedding"],
        }


RECIPE = ASC2DRecipe()
__all__ = ["RECIPE", "ASC2DConfig", "ASC2DRecipe"]
