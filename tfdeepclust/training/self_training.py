"""The DEC-family clustering phase: ``fit`` with full-data target refreshes and the tol stop."""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from tfdeepclust.data.pipeline import make_train_dataset, steps_per_epoch
from tfdeepclust.training.target_refresh import TargetRefresh


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
) -> dict:
    """Trains ``model`` (whose ``train_step`` gathers targets by sample id) until tol/maxiter.

    The model must be compiled and have its centroids initialised. Keras epochs here are passes
    over the data (``ceil(N / batch)`` steps); the callback stops mid-epoch when needed.

    Returns:
        ``converged``, ``stop_reason``, ``n_iter``, ``history`` (per refresh), ``wall_time_s``,
        ``refresh_time_s`` and the Keras ``fit`` history (per-epoch loss means).
    """
    t0 = time.perf_counter()
    if getattr(model, "__dict__", {}).get("_target_store") is None:
        model.attach_targets(len(x))
    refresh = TargetRefresh(x, update_interval, tol, maxiter, y=y, verbose=1 if verbose else 0)
    ds = make_train_dataset(x, batch_size, seed, shuffle=shuffle, augmenter=augmenter)
    spe = steps_per_epoch(len(x), batch_size)
    remaining = max(maxiter - int(model.target_store.iteration.numpy()), 0)
    epochs = max(math.ceil(remaining / spe), 1)
    hist = model.fit(ds, epochs=epochs, steps_per_epoch=spe, verbose=verbose,
                     callbacks=[refresh, keras.callbacks.TerminateOnNaN(), *(callbacks or [])])
    return {
        "converged": refresh.converged_,
        "stop_reason": refresh.stop_reason_ or "maxiter",
        "n_iter": int(model.target_store.iteration.numpy()),
        "history": refresh.history_,
        "epoch_losses": {k: [float(v) for v in vals] for k, vals in hist.history.items()},
        "refresh_time_s": refresh.refresh_time_s,
        "wall_time_s": time.perf_counter() - t0,
    }
