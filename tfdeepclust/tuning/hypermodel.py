"""One KerasTuner HyperModel for every method: a trial is the clustering phase of a normal run.

``build(hp)`` builds the method's model with the trial's hyperparameters and calls it on a dummy
batch (a subclassed model must own its variables before KerasTuner reloads weights into it,
docs/platform.md §4). ``fit(hp, model)`` loads the shared pretrained auto-encoder, runs k-means and
the clustering phase, and returns every figure as a dict: label-free ones always, label-based
ones only under an ``oracle_`` prefix (choosing hyperparameters by ACC is selection on the test
labels; docs/platform.md §7.11).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np
from keras_tuner.src.engine.tuner_utils import SaveBestEpoch

from tfdeepclust.atomic import atomic_save_npy
from tfdeepclust.metrics import label_free_metrics, supervised_metrics
from tfdeepclust.run_spec import resolve_method_config
from tfdeepclust.tuning.space import Param, apply

# Objective name -> direction. Label-free ones first; ``oracle_*`` need ground-truth labels.
OBJECTIVES: dict[str, str] = {
    "silhouette": "max",  # of the embedding, on a seeded sample of <= 5,000 points
    "size_entropy": "max",  # cluster-size balance, 1 = balanced
    "assignment_entropy": "min",  # mean per-sample entropy of the soft assignment, 0 = confident
    "oracle_acc": "max",
    "oracle_nmi": "max",
    "oracle_ari": "max",
}
# What a trial reports when its objective cannot be computed (e.g. everything in one cluster,
# where the silhouette is undefined): the worst value the figure can take.
WORST = {"silhouette": -1.0, "size_entropy": 0.0, "assignment_entropy": 1.0}


def make_objective(name: str) -> kt.Objective:
    """The ``kt.Objective`` with its declared direction (a bare name cannot be inferred)."""
    if name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r}; choose from {sorted(OBJECTIVES)}")
    return kt.Objective(name, OBJECTIVES[name])


def trial_figures(data, final: dict, clus: dict, seed: int) -> dict:
    """Numeric figures of one finished trial (KerasTuner records every one of them)."""
    lf = label_free_metrics(
        final["labels"],
        data.n_clusters,
        final.get("probabilities"),
        final.get("embedding"),
        seed=seed,
    )
    out = {
        "silhouette": lf["silhouette"],
        "size_entropy": lf["size_entropy"],
        "assignment_entropy": lf.get("assignment_entropy"),
        "smallest_cluster_frac": lf["smallest_cluster_frac"],
        "empty_clusters": float(lf["empty_clusters"]),
        "degenerate": float(bool(lf["degenerate"])),
        "n_iter": float(clus.get("n_iter") or 0),
    }
    for k, v in WORST.items():
        if out.get(k) is None:
            out[k] = v
    if data.y is not None:
        sup = supervised_metrics(data.y, final["labels"])
        out.update({f"oracle_{k}": float(sup[k]) for k in ("acc", "nmi", "ari")})
    return {k: float(v) for k, v in out.items()}


class ClusteringHyperModel(kt.HyperModel):
    """The tunable form of one method on one data set.

    Args:
        recipe: The method's recipe (``tfdeepclust.recipes.<method>.RECIPE``).
        cfg: Method config with the values of every parameter that is not tuned.
        common: Common options (budget already resolved for ``data``).
        data: The loaded data set.
        params: The parameters to tune (:mod:`tfdeepclust.tuning.space`).
        grid: Declare parameters as GridSearch choices instead of ranges.
        pretrained: The shared pretrained weights every trial starts from (None: the method
            has no pretraining, e.g. DFVC, and every trial trains from its random init).
        labels_dir: Where each trial's final labels are saved (``<trial_id>.npy``).
    """

    def __init__(
        self,
        recipe,
        cfg,
        common,
        data,
        params: tuple[Param, ...],
        grid: bool = False,
        pretrained: str | Path | None = None,
        labels_dir: str | Path | None = None,
    ):
        super().__init__(name=f"{recipe.name}_{data.name}")
        self.recipe, self.cfg, self.common, self.data = recipe, cfg, common, data
        self.params, self.grid = params, grid
        self.pretrained = None if pretrained is None else Path(pretrained)
        self.labels_dir = None if labels_dir is None else Path(labels_dir)

    def declare_hyperparameters(self, hp) -> None:
        for p in self.params:
            p.declare(hp, self.grid)

    def configs(self, hp):
        """``(cfg, common, data)`` of the trial whose hyperparameters are ``hp``: ``data`` has
        the trial's number of clusters (a K sweep changes it)."""
        values = {p.name: p.declare(hp, self.grid) for p in self.params}
        cfg, common = apply(values, self.params, self.cfg, self.common)
        data = self.data
        if common.n_clusters is not None and common.n_clusters != data.n_clusters:
            data = dataclasses.replace(data, n_clusters=int(common.n_clusters))
        return resolve_method_config(self.recipe, cfg, common, data), common, data

    def build(self, hp):
        cfg, common, data = self.configs(hp)
        keras.utils.set_random_seed(common.seed)  # every trial starts from the same draws
        model = self.recipe.build(cfg, common, data)
        model.build_on_dummy()
        return model

    def pretrained_for(self, cfg, common, data) -> Path | None:
        """The shared pretrained weights, or, when the trial's K changes the auto-encoder (ASC2D's
        embedding is K wide), the trial's own cache file (pretrained on first use)."""
        if self.pretrained is None or data is self.data:
            return self.pretrained
        from tfdeepclust.runner import pretrain_cache_path

        return pretrain_cache_path(self.recipe, cfg, common, data)

    def fit(self, hp, model, *args, callbacks=None, epochs=None, initial_epoch=0, **kwargs):
        """Runs one trial; returns its figures (the tuner reads the objective from them).

        ``epochs``/``initial_epoch`` come from Hyperband: one tuner epoch is one target-refresh
        interval, and a continued trial (``initial_epoch > 0``, weights already reloaded by the
        tuner) resumes clustering from those weights without a new k-means.
        """
        t0 = time.perf_counter()
        cfg, common, data = self.configs(hp)
        keras.utils.set_random_seed(common.seed)
        if epochs is not None:  # Hyperband budget: refresh intervals
            iters = max(1, (epochs - initial_epoch) * common.update_interval)
            common = dataclasses.replace(common, maxiter=iters)
        model.attach_targets(data.n_samples)
        if initial_epoch == 0:
            pretrained = self.pretrained_for(cfg, common, data)
            self.recipe.pretrain(model, cfg, common, data, pretrained, [])
            self.recipe.initialise(model, cfg, common, data)
        clus = self.recipe.cluster(model, cfg, common, data, [])
        final = self.recipe.finalize(model, cfg, common, data)
        if not np.all(np.isfinite(final["probabilities"])):
            raise kt.errors.FailedTrialError(
                f"non-finite cluster probabilities with {hp.values}: the trial diverged"
            )
        figures = trial_figures(data, final, clus, common.seed)
        figures["wall_time_s"] = time.perf_counter() - t0
        trial_id = _current_trial_id(callbacks)
        if self.labels_dir is not None and trial_id is not None:
            # A resumed sweep reads these; a killed write must not leave a truncated file.
            atomic_save_npy(self.labels_dir / f"{trial_id}.npy", final["labels"])
        # KerasTuner saves a trial's weights from its epoch-end callback; the clustering phase
        # runs its own fit loops, so the checkpoint is written once here, from the final state.
        for cb in callbacks or []:
            if isinstance(cb, SaveBestEpoch):
                cb.set_model(model)
                cb.on_epoch_end(0, logs=figures)
        return figures


def _current_trial_id(callbacks) -> str | None:
    """The running trial's id, read from KerasTuner's per-trial callback."""
    for cb in callbacks or []:
        trial = getattr(cb, "trial", None)
        if trial is not None:
            return trial.trial_id
    return None


__all__ = ["OBJECTIVES", "ClusteringHyperModel", "make_objective", "trial_figures"]
