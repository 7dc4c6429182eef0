"""The DEC-family clustering phase: ``fit`` with full-data target refreshes and the tol stop."""

from __future__ import annotations

import math
import time

import numpy as np

from tfdeepclust.config import DEFAULT_COLLAPSE_PATIENCE
from tfdeepclust.data.pipeline import make_train_dataset, steps_per_epoch
from tfdeepclust.training.checkpointing import CheckpointEvery
from tfdeepclust.training.divergence import DivergenceGuard, TrainingDivergedError, scale_hint
from tfdeepclust.training.target_refresh import TargetRefresh
from tfdeepclust.training.time_limit import fired


def run_self_training(
    model,
    x: np.ndarray,
    y: np.ndarray | None,
    batch_size: int,
    seed: int,
    update_interval: int,
    tol: float,
    maxiter: int,
    shuffle: bool = True,
    augmenter=None,
    callbacks: list | None = None,
    verbose: int = 2,
    checkpoint=None,
    history: list[dict] | None = None,
    checkpoint_every: int | None = None,
    parallel_augment: bool = False,
    collapse_patience: int = DEFAULT_COLLAPSE_PATIENCE,
    keep_initial_targets: int = 0,
    drift_guard=None,
) -> dict:
    """Trains ``model`` (whose ``train_step`` gathers targets by sample id) until tol, maxiter,
    a collapse or a :class:`~tfdeepclust.training.time_limit.TimeLimit` among ``callbacks``
    stops it.

    The model must be compiled and have its centroids initialised (or restored). Keras epochs
    here are passes over the data (``ceil(N / batch)`` steps); the callback stops mid-epoch.

    Args (beyond the obvious):
        checkpoint: A ``ClusteringCheckpoint``: saved at every target refresh and at the end.
        history: Refresh history so far (when resuming from a checkpoint).
        checkpoint_every: Iterations between checkpoints (default: every refresh).
        parallel_augment: See :func:`~tfdeepclust.data.pipeline.make_train_dataset`.
        collapse_patience: Collapsed refreshes in a row that end the phase (see
            :class:`~tfdeepclust.training.target_refresh.TargetRefresh`); 0 never.
        keep_initial_targets: Iterations during which targets the initialisation seeded stay
            the targets (see :class:`~tfdeepclust.training.target_refresh.TargetRefresh`).
        drift_guard: A :class:`~tfdeepclust.training.drift_guard.DriftRule`, or None (off).

    Returns:
        ``converged``, ``stop_reason``, ``n_iter``, ``history`` (per refresh), ``wall_time_s``,
        ``refresh_time_s`` and the Keras ``fit`` history (per-epoch loss means).
    """
    t0 = time.perf_counter()
    if getattr(model, "__dict__", {}).get("_target_store") is None:
        model.attach_targets(len(x))
    refresh = TargetRefresh(
        x,
        update_interval,
        tol,
        maxiter,
        y=y,
        verbose=verbose,
        history=history,
        collapse_patience=collapse_patience,
        keep_initial_targets=keep_initial_targets,
        drift_guard=drift_guard,
    )
    refresh.set_model(model)  # finished_reason() reads the model's target store before fit
    store = model.target_store
    remaining = max(maxiter - int(store.iteration.numpy()), 0)
    every = checkpoint_every or update_interval
    # The guard runs before TargetRefresh counts the step: +1 names the step that diverged.
    guard = DivergenceGuard(lambda: store.iteration.numpy() + 1)
    extra = [] if checkpoint is None else [CheckpointEvery(checkpoint, every, refresh, guard)]
    fit_history: dict = {}
    if refresh.finished_reason() or remaining == 0:
        # Nothing left to train (a finished run being resumed): Keras would still run one step.
        refresh.on_train_begin()
    else:
        ds = make_train_dataset(
            x,
            batch_size,
            seed,
            shuffle=shuffle,
            augmenter=augmenter,
            parallel_augment=parallel_augment,
        )
        spe = steps_per_epoch(len(x), batch_size)
        epochs = max(math.ceil(remaining / spe), 1)
        fit_history = model.fit(
            ds,
            epochs=epochs,
            steps_per_epoch=spe,
            shuffle=False,  # the tf.data pipeline shuffles (Keras warns about shuffle=True)
            verbose=2 if verbose >= 2 else 0,  # 1: TargetRefresh's progress lines only
            callbacks=[guard, refresh, *extra, *(callbacks or [])],
        ).history
    if guard.diverged:
        kept = checkpoint.latest if checkpoint is not None else None
        raise TrainingDivergedError(
            f"{guard.describe()}. "
            + (
                f"The last good checkpoint was kept ({kept}); "
                if kept
                else "No checkpoint was written; "
            )
            + "nothing was exported. Lower the clustering learning rate or batch-level loss "
            "weights and rerun (another setting starts a new run; the same command resumes from "
            "the kept checkpoint)." + scale_hint(x)
        )
    # The time limit stops fit only when no other rule did at the same step.
    if refresh.stop_reason_ is None and fired(callbacks) is not None:
        refresh.stop_reason_ = "time_limit"
        if verbose:
            print(
                f"[stop] time_limit at iteration {int(store.iteration.numpy())}: the next "
                "step would not have ended in time",
                flush=True,
            )
    return {
        "converged": refresh.converged_,
        "stop_reason": refresh.stop_reason_ or "maxiter",
        "n_iter": int(store.iteration.numpy()),
        "history": refresh.history_,
        "drift_guard": refresh.guard_decision_,
        "epoch_losses": {k: [float(v) for v in vals] for k, vals in fit_history.items()},
        "refresh_time_s": refresh.refresh_time_s,
        "wall_time_s": time.perf_counter() - t0,
    }
