"""Stopping a training phase whose losses became NaN or infinite, without saving its state.

Keras' ``TerminateOnNaN`` stops ``fit`` but lets every other callback run on: an end-of-training
checkpoint or a pretraining cache would then hold NaN weights and a rerun would resume from them.
:class:`DivergenceGuard` records where training diverged, checkpoint callbacks consult it, and the
phase raises :class:`TrainingDivergedError` so nothing downstream (export, results) uses the model.
"""

from __future__ import annotations

import math

import keras
import numpy as np

# Features beyond this magnitude are not of order 1: MLP auto-encoders trained with the papers'
# learning rates commonly diverge on them (e.g. raw measurements in the hundreds).
LARGE_FEATURE = 10.0


class TrainingDivergedError(RuntimeError):
    """A loss became NaN or infinite; the message says where and what was kept."""


class DivergenceGuard(keras.callbacks.Callback):
    """Stops ``fit`` at the first non-finite value in the step's logs.

    Put it first in the callback list: callbacks after it see ``diverged`` already set.

    Args:
        iteration_fn: Returns the current global iteration (for the message); defaults to the
            count of batches seen by this callback.
    """

    def __init__(self, iteration_fn=None):
        super().__init__()
        self.iteration_fn = iteration_fn
        self.batches = 0
        self.diverged = False
        self.at_iteration: int | None = None
        self.bad_terms: dict[str, float] = {}

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        if self.diverged:
            return
        bad = {}
        for name, value in (logs or {}).items():
            try:
                v = float(value)
            except (TypeError, ValueError):
                continue
            if not math.isfinite(v):
                bad[name] = v
        if bad:
            self.diverged = True
            self.bad_terms = bad
            self.at_iteration = int(self.iteration_fn()) if self.iteration_fn else self.batches
            self.model.stop_training = True
            terms = ", ".join(f"{k}={v}" for k, v in sorted(bad.items()))
            print(f"[diverged] non-finite values at iteration {self.at_iteration}: {terms}")

    def describe(self) -> str:
        """One sentence naming the iteration and the non-finite terms."""
        terms = ", ".join(sorted(self.bad_terms))
        return f"training diverged at iteration {self.at_iteration} (non-finite: {terms})"


def scale_hint(x) -> str:
    """A sentence naming unscaled features as a likely cause, or ``""`` when ``x`` looks scaled.

    Images arrive in [0, 1]; tabular features are used as given, so large raw values are the
    first thing to rule out when the loss becomes NaN.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.size == 0:
        return ""
    peak = float(np.nanmax(np.abs(x)))
    if not peak > LARGE_FEATURE:
        return ""
    return (
        f" The features reach |x| = {peak:.3g}, while the networks expect values of order 1: "
        "standardise them first (e.g. scikit-learn's StandardScaler) or pass --row-norm "
        "unit_l2 (row_norm='unit_l2' from Python)."
    )


__all__ = ["DivergenceGuard", "LARGE_FEATURE", "TrainingDivergedError", "scale_hint"]
