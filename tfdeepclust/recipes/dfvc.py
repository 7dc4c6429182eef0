"""DFVC as a runner recipe: no pretraining, no k-means; one phase on pairs of views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tfdeepclust.config import CommonConfig
from tfdeepclust.data.augment import PRESETS, VIEW_MODES
from tfdeepclust.losses.dfvc import REG_MODES, VEC_REDUCTIONS
from tfdeepclust.methods.dfvc import HEAD_INPUTS
from tfdeepclust.nn.variational_encoders import TRUNKS
from tfdeepclust.recipes.base import final_outputs, require_images, self_train

# [PAPER Table I] (α, β, γ) per data set.
TABLE1_WEIGHTS = {
    "mnist": (2.0, 0.5, 0.1),
    "cifar10": (3.0, 0.2, 0.2),
    "cifar100_20": (3.0, 0.2, 0.2),
    "stl10": (2.0, 0.3, 0.2),
}


def table1_weights(dataset: str, channels: int) -> tuple[float, float, float]:
    """Table I's (α, β, γ): by data set; other grey sets take MNIST's, colour sets CIFAR-10's."""
    if dataset in ("mnist", "mnist_test"):
        return TABLE1_WEIGHTS["mnist"]
    if dataset in TABLE1_WEIGHTS:
        return TABLE1_WEIGHTS[dataset]
    return TABLE1_WEIGHTS["cifar10" if channels == 3 else "mnist"]


@dataclass
class DFVCConfig:
    """DFVC hyperparameters; tags as in docs/methods.md §4 ([PAPER] / [CHOICE]).

    Each field's comment is its ``--help`` text (``cli.field_docs``).
    """

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "trunk": TRUNKS,
        "reg_mode": REG_MODES,
        "vec_reduction": VEC_REDUCTIONS,
        "head_input": HEAD_INPUTS,
        "aug_mode": VIEW_MODES,
        "augment": ("auto", *PRESETS),
    }
    # Fields that do not change the method (skipped by results.paper_profile).
    OPERATIONAL_FIELDS: ClassVar[tuple[str, ...]] = ("parallel_augment", "checkpoint_every")
    # Range rules beyond "finite, >= 0, counts >= 1" (tfdeepclust.validation).
    POSITIVE: ClassVar[tuple[str, ...]] = ("lr", "adam_epsilon")
    ZERO_MEANS: ClassVar[tuple[str, ...]] = ("overcluster_factor",)

    alpha: float | None = None  # [PAPER Table I] L_CMI weight; None = the data set's value
    beta: float | None = None  # [PAPER Table I] L_VEC weight; None = the data set's value
    gamma: float | None = None  # [PAPER Table I] L_REG weight; None = the data set's value
    lr: float = 1e-4  # [PAPER §IV-B] Adam rate
    adam_epsilon: float = 1e-7  # [CHOICE] Keras default
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
        import dataclasses

        channels = data.x.shape[-1] if data.is_image else 0
        weights = table1_weights(common.dataset, channels)
        defaults = dict(zip(("alpha", "beta", "gamma"), weights, strict=True))
        return dataclasses.replace(
            cfg, **{k: v for k, v in defaults.items() if getattr(cfg, k) is None}
        )

    def build(self, cfg: DFVCConfig, common: CommonConfig, data):
        import keras

        from tfdeepclust.methods.dfvc import DFVC

        require_images(data, "DFVC")
        model = DFVC(
            data.x.shape[1:],
            data.n_clusters,
            alpha=cfg.alpha,
            beta=cfg.beta,
            gamma=cfg.gamma,
            latent_dim=cfg.latent_dim,
            trunk=cfg.trunk,
            filters=cfg.filters,
            base_filters=cfg.base_filters,
            fc_units=cfg.fc_units,
            critic_hidden=cfg.critic_hidden,
            use_global=cfg.use_global,
            use_local=cfg.use_local,
            use_cmi=cfg.use_cmi,
            use_vec=cfg.use_vec,
            use_reg=cfg.use_reg,
            overcluster_factor=cfg.overcluster_factor,
            reg_mode=cfg.reg_mode,
            recon_weight=cfg.recon_weight,
            kernel_initializer=cfg.kernel_initializer,
            vec_head_gradient=cfg.vec_head_gradient,
            vec_reduction=cfg.vec_reduction,
            head_input=cfg.head_input,
            seed=common.seed,
        )
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
        from tfdeepclust.data.augment import ViewPair, build_augmenter, default_preset

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
            from tfdeepclust.training.kmeans import kmeans_init

            _, result["labels"] = kmeans_init(
                result["embedding"], data.n_clusters, common.seed, common.kmeans_n_init
            )
            result["probabilities"] = None
        return result


RECIPE = DFVCRecipe()
__all__ = ["RECIPE", "DFVCConfig", "DFVCRecipe", "table1_weights"]
