"""Steps the DEC-family recipes (ASC2D, ADEC) share."""

from __future__ import annotations

from tfdeepclust.data.augment import build_augmenter
from tfdeepclust.data.dataset import DataError
from tfdeepclust.training.drift_guard import DriftRule
from tfdeepclust.training.initialisation import initialise_clustering
from tfdeepclust.training.self_training import run_self_training


def require_images(data, method: str) -> None:
    """Raises a DataError naming the fix when a convolutional method gets tabular data."""
    if not data.is_image:
        raise DataError(
            f"{method} is a convolutional method and needs images; {data.name} is tabular "
            f"{data.x.shape}. Use train_adec.py for tabular data."
        )


def resolved_tol(recipe, common) -> float:
    """``common.tol``, or the method's default when unset (callers that bypass the runner)."""
    return recipe.default_tol if common.tol is None else common.tol


def self_train(
    recipe,
    model,
    common,
    data,
    callbacks,
    checkpoint=None,
    history=None,
    batch_size: int | None = None,
    **options,
) -> dict:
    """The shared clustering loop with the run's budget: seed, batch, update interval, tol
    (the recipe's default when unset), maxiter, collapse patience and the drift guard (for
    recipes with ``drift_guard_applies``) from ``common``.

    Args:
        recipe: The calling recipe (for its ``default_tol``).
        model, data, callbacks, checkpoint, history: As for ``run_self_training``.
        batch_size: Samples per step when a step takes more than ``common.batch_size``.
        **options: Method-specific ``run_self_training`` options (``augmenter``, ``shuffle``,
            ``checkpoint_every``, ...).
    """
    guarded = common.drift_guard and getattr(recipe, "drift_guard_applies", False)
    return run_self_training(
        model,
        data.x,
        data.y,
        batch_size or common.batch_size,
        common.seed,
        common.update_interval,
        resolved_tol(recipe, common),
        common.maxiter,
        callbacks=callbacks,
        verbose=common.verbose,
        checkpoint=checkpoint,
        history=history,
        collapse_patience=common.collapse_patience,
        drift_guard=DriftRule() if guarded else None,
        **options,
    )


def final_outputs(model, x) -> dict:
    """Labels, probabilities and embedding of every sample with the final weights."""
    out = model.infer(x)
    return {k: out[k] for k in ("labels", "probabilities", "embedding")}


AUGMENT_MODES = ("auto", "dec", "none")


class DECFamilyRecipe:
    """k-means initialisation on the pretrained embedding; labels = argmax of Q by default."""

    default_tol = 1e-3  # DEC's label-change stop (docs/methods.md §1.4)
    # The label-free drift guard watches this family's self-training (--drift-guard).
    drift_guard_applies = True

    def initialise(self, model, cfg, common, data) -> dict:
        method = getattr(cfg, "init", "kmeans")  # configs without the field: DEC's k-means
        return initialise_clustering(
            model, data.x, data.y, common.seed, common.kmeans_n_init, method
        )

    def finalize(self, model, cfg, common, data) -> dict:
        return final_outputs(model, data.x)

    def augmenter(self, cfg, common, data):
        """DEC-DA's rotation + shift (docs/methods.md §1.8) for images when ``cfg.augment`` asks.

        ``cfg.augment``: ``"auto"`` or ``"dec"`` augment image data (tabular data never is);
        ``"none"`` does not. Used for pretraining and clustering batches alike.
        """
        mode = cfg.augment
        if mode not in AUGMENT_MODES:
            raise ValueError(f"augment must be one of {AUGMENT_MODES}, got {mode!r}")
        if mode == "none" or not data.is_image:
            return None
        return build_augmenter("dec", common.seed, data.x.shape[-1])
