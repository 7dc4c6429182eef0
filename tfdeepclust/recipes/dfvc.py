"""DFVC as a runner recipe: no pretraining, no k-means; one phase on pairs of views."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import keras

from tfdeepclust.config import CommonConfig
from tfdeepclust.data.augment import PRESETS, VIEW_MODES, ViewPair, build_augmenter, default_preset
from tfdeepclust.methods.dfvc import DFVC, TABLE1_WEIGHTS, DFVCHyperparameters
from tfdeepclust.recipes.base import final_outputs, require_images, self_train
from tfdeepclust.training.kmeans import kmeans_init


def table1_weights(dataset: str, channels: int) -> tuple[float, float, float]:
    """Table I's (α, β, γ): by data set; other grey sets take MNIST's, colour sets CIFAR-10's."""
    if dataset in ("mnist", "mnist_test"):
        return TABLE1_WEIGHTS["mnist"]
    if dataset in TABLE1_WEIGHTS:
        return TABLE1_WEIGHTS[dataset]
    return TABLE1_WEIGHTS["cifar10" if channels == 3 else "mnist"]


@dataclass
class DFVCConfig(DFVCHyperparameters):
    """DFVC's options: the model's hyperparameters and the training ones; tags as in
    docs/methods.md §4 ([PAPER] / [CHOICE]).

    Each field's comment is its ``--help`` text (``cli.field_docs``).
    """

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        **DFVCHyperparameters.CHOICES,
        "aug_mode": VIEW_MODES,
        "augment": ("auto", *PRESETS),
    }
    # Fields that do not change the method (skipped by results.paper_profile).
    OPERATIONAL_FIELDS: ClassVar[tuple[str, ...]] = ("parallel_augment", "checkpoint_every")
    # Range rules beyond "finite, >= 0, counts >= 1" (tfdeepclust.validation).
    POSITIVE: ClassVar[tuple[str, ...]] = ("lr", "adam_epsilon")

    lr: float = 1e-4  # [PAPER §IV-B] Adam rate
    adam_epsilon: float = 1e-7  # [CHOICE] Keras default
    aug_mode: str = "double"  # [PAPER Table IV] which inputs are augmented views
    # augmentation ops; auto = dfvc_grey or dfvc_colour by channels [CHOICE, docs/methods.md §4.7]
    augment: str = "auto"
    # multiplies every magnitude of the augmentation preset (1 = as listed in docs/methods.md §4.7)
    augment_strength: float = 1.0
    parallel_augment: bool = False  # faster, but the draws are not reproducible under a seed
    checkpoint_every: int = 100  # iterations between checkpoints (a step is slow on CPU)


class DFVCRecipe:
    """DFVC (Algorithm 1): random initialisation, Adam on Eq. 40 over pairs of views."""

    name = "dfvc"
    description = (
        "DFVC (Ji et al., IEEE TNNLS 2022): decoder-free variational deep embedding with "
        "augmented mutual information. Defaults are the paper's (Table I weights per data set)."
    )
    config_cls = DFVCConfig
    default_tol = 0.0  # no label-change stop: the paper trains a fixed number of epochs
    budgets = {
        "quick": {"maxiter": 20, "update_interval": 10},
        # A short run on 2 CPU cores; far from converged on MNIST-size data.
        "default": {"epochs": 2, "update_epochs": 1},
        # [CHOICE] 100 epochs (MNIST) with an evaluation per epoch; colour sets need 300
        # (docs/methods.md §4.7): pass --maxiter.
        "paper": {"epochs": 100, "update_epochs": 1},
    }

    def resolve_config(self, cfg: DFVCConfig, common: CommonConfig, data) -> DFVCConfig:
        """Fills the Table I weights of the data set (explicit flags win)."""
        channels = data.x.shape[-1] if data.is_image else 0
        weights = table1_weights(common.dataset, channels)
        defaults = dict(zip(("alpha", "beta", "gamma"), weights, strict=True))
        return dataclasses.replace(
            cfg, **{k: v for k, v in defaults.items() if getattr(cfg, k) is None}
        )

    def build(self, cfg: DFVCConfig, common: CommonConfig, data):
        require_images(data, "DFVC")
        model = DFVC(data.x.shape[1:], data.n_clusters, hp=cfg, seed=common.seed)
        model.compile(optimizer=keras.optimizers.Adam(cfg.lr, epsilon=cfg.adam_epsilon))
        return model

    def pretrain_key(self, cfg, common, data) -> dict:
        return {}

    def pretrain(self, model, cfg, common, data, cache_path, callbacks) -> dict:
        return {"skipped": "DFVC trains from random initialisation", "wall_time_s": 0.0}

    def initialise(self, model, cfg, common, data) -> dict:
        return {"skipped": "DFVC has no k-means initialisation"}

    def view_pair(self, cfg: DFVCConfig, common: CommonConfig, data):
        """The two-view augmenter of the training pipeline."""
        channels = int(data.x.shape[-1])
        preset = default_preset(cfg.augment, channels)
        augmenter = (
            None
            if cfg.aug_mode == "none"
            else build_augmenter(preset, common.seed, channels, cfg.augment_strength)
        )
        return ViewPair(augmenter, cfg.aug_mode)

    def cluster(self, model, cfg, common, data, callbacks, checkpoint=None, history=None) -> dict:
        # The shared loop: evaluation on all clean data every update_interval steps (ACC/NMI
        # logged when labels exist), checkpoints, maxiter; tol 0 never stops early.
        return self_train(
            self,
            model,
            common,
            data,
            callbacks,
            checkpoint,
            history,
            augmenter=self.view_pair(cfg, common, data),
            checkpoint_every=min(cfg.checkpoint_every, common.update_interval),
            parallel_augment=cfg.parallel_augment,
        )

    def finalize(self, model, cfg: DFVCConfig, common: CommonConfig, data) -> dict:
        """Labels = argmax of the K-way head on μ_z of the clean images; without any head loss
        (the L_DMI-only ablation of Table V), k-means (n_init 20) on μ_z."""
        result = final_outputs(model, data.x)
        if not (cfg.use_cmi or cfg.use_vec or cfg.use_reg):
            _, result["labels"] = kmeans_init(
                result["embedding"], data.n_clusters, common.seed, common.kmeans_n_init
            )
            result["probabilities"] = None
        return result


RECIPE = DFVCRecipe()
__all__ = ["RECIPE", "TABLE1_WEIGHTS", "DFVCConfig", "DFVCRecipe", "table1_weights"]
