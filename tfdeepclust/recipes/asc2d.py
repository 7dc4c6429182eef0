"""ASC2D's Algorithm 1 as a runner recipe, with its hyperparameters (docs/methods.md §2.5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tfdeepclust.config import CommonConfig
from tfdeepclust.losses.adversarial import GEN_LOSSES
from tfdeepclust.losses.reconstruction import REDUCTIONS
from tfdeepclust.nn.precision import PRECISIONS
from tfdeepclust.recipes.base import AUGMENT_MODES, DECFamilyRecipe, require_images, self_train
from tfdeepclust.training.initialisation import INIT_METHODS


@dataclass
class ASC2DConfig:
    """ASC2D hyperparameters. [PAPER] values from Table 2 / §3.3; the rest are [CHOICE]s.

    Each field's comment is its ``--help`` text (``cli.field_docs``).
    """

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "gen_loss": GEN_LOSSES,
        "ae_reduction": REDUCTIONS,
        "augment": AUGMENT_MODES,
        "init": INIT_METHODS,
        "disc_precision": PRECISIONS,
    }
    # The paper's text where the default recipe departs from it (``--preset paper``; the
    # results profile lists each of these a run used as a deviation).
    PAPER_VALUES: ClassVar[dict[str, object]] = {
        "augment": "none",
        "lr_pretrain": 3e-3,
        "init": "kmeans",
    }
    # Range rules beyond "finite, >= 0, counts >= 1" (tfdeepclust.validation).
    POSITIVE: ClassVar[tuple[str, ...]] = (
        "lr_pretrain",
        "lr_ae",
        "lr_disc",
        "adam_epsilon",
        "alpha",
    )
    ZERO_MEANS: ClassVar[tuple[str, ...]] = ("init_target_intervals",)

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
    # [CHOICE] Adam rate of the auto-encoder pretraining (paper: 3e-3). ConvDEC-DA's 1e-3 with
    # augmentation; at 3e-3 the augmented CAE's embedding gained later (benchmarks/RESULTS.md).
    lr_pretrain: float = 1e-3
    lr_ae: float = 3e-3  # [PAPER] Adam rate of encoder + decoder + centroids
    lr_disc: float = 1e-3  # [PAPER] Adam rate of the discriminator
    adam_epsilon: float = 1e-8  # [CHOICE] TF 1.13 default (the paper's platform)
    shuffle: bool = True  # [CHOICE] reshuffle every epoch
    alpha: float = 1.0  # Student-t degrees of freedom of D1
    # [CHOICE] L_AE as a per-pixel mean (Keras/TF mse). With a per-sample sum, L_AE is ~250x
    # larger and the clustering terms (and the λ2, λ3 the paper tuned) have no measurable effect:
    # ACC stayed at the AE+k-means value (benchmarks/RESULTS.md).
    ae_reduction: str = "mean"
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
    # [CHOICE] compute precision of the 2000-2000 discriminator: float32; bfloat16 (float32
    # weights and loss); auto = bfloat16 where the CPU has bfloat16 dot products (AVX-512 BF16)
    disc_precision: str = "float32"


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

    def build(self, cfg: ASC2DConfig, common: CommonConfig, data):
        import keras

        from tfdeepclust.methods.asc2d import ASC2D

        require_images(data, "ASC2D")
        self.augmenter(cfg, common, data)  # a bad --augment fails before the pretraining
        model = ASC2D(
            data.x.shape[1:],
            data.n_clusters,
            lambda1=cfg.lambda1,
            lambda2=cfg.lambda2,
            lambda3=cfg.lambda3,
            use_discriminator=cfg.use_discriminator,
            d_steps=cfg.d_steps,
            gen_loss=cfg.gen_loss,
            filters=cfg.filters,
            disc_hidden=cfg.disc_hidden,
            embedding_activation=None
            if cfg.embedding_activation == "linear"
            else cfg.embedding_activation,
            alpha=cfg.alpha,
            ae_reduction=cfg.ae_reduction,
            disc_precision=cfg.disc_precision,
        )
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
        from tfdeepclust.training.pretrain import pretrain_autoencoder

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
        from tfdeepclust.losses.dec import target_distribution

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
