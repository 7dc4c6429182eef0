"""``--time-limit``: end training before a wall-clock budget runs out, losing nothing.

A batch scheduler (Slurm's ``--time``, a CI job, a working session) kills a job at its limit,
and the work since the last checkpoint dies with it. With a time limit the run stops itself
first, at a point that is saved, and the same command continues from there:

* pretraining stops at the end of the last epoch predicted to finish in time (its per-epoch
  backup holds that epoch); :class:`TimeLimitReached` then ends the run without results;
* the clustering phase stops after the last step predicted to finish in time; the checkpoint
  written when ``fit`` ends holds it, and the run closes as usual (evaluation, results JSON,
  export) with ``stop_reason: "time_limit"``.

The prediction is the mean duration of an epoch (pretraining) or a step (clustering, target
refreshes included) so far in this process. The limit counts from the start of the run; the
closing evaluation and export come after the last step, so leave a margin for them.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from tfdeepclust.distribute import agree_with_chief
from tfdeepclust.durations import EXIT_TIME_LIMIT, parse_duration


class TimeLimitReached(Exception):  # noqa: N818 (a planned stop, not an error)
    """Pretraining stopped by the time limit; its backup is kept and a rerun resumes it."""


class TimeLimit(keras.callbacks.Callback):
    """Stops ``fit`` when the next epoch (or step) would end after the time limit.

    Args:
        limit_s: The run's time budget in seconds.
        per: ``"epoch"`` (pretraining: stop only where the per-epoch backup was just written)
            or ``"step"`` (clustering: the checkpoint written at the end of ``fit`` saves any
            step).
        start: ``time.perf_counter()`` at the start of the run (default: now).

    After ``fit``: ``fired`` (this callback stopped it) and ``done``, the epochs or steps this
    process finished.
    """

    def __init__(self, limit_s: float, per: str = "step", start: float | None = None):
        super().__init__()
        if per not in ("epoch", "step"):
            raise ValueError(f"per must be 'epoch' or 'step', got {per!r}")
        self.limit_s, self.per = float(limit_s), per
        self.end = (time.perf_counter() if start is None else start) + self.limit_s
        self.fired = False
        self.done = 0
        self._t0 = time.perf_counter()

    def remaining_s(self) -> float:
        return self.end - time.perf_counter()

    def on_train_begin(self, logs=None):
        self._t0, self.done, self.fired = time.perf_counter(), 0, False

    def _tick(self) -> None:
        self.done += 1
        if self.model.stop_training:  # another rule (tol, maxiter, divergence) stopped it first
            return
        next_cost = (time.perf_counter() - self._t0) / self.done
        stop = next_cost > self.remaining_s()
        # Multi-worker runs: every worker takes the chief's decision, so all leave fit together.
        stop = bool(agree_with_chief(np.array([stop]), self.model.distribute_strategy)[0])
        if stop:
            self.fired = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.per == "epoch":
            self._tick()

    def on_train_batch_end(self, batch, logs=None):
        if self.per == "step":
            self._tick()


def fired(callbacks) -> TimeLimit | None:
    """The :class:`TimeLimit` among ``callbacks`` that stopped its ``fit``, if any."""
    return next((c for c in callbacks or () if isinstance(c, TimeLimit) and c.fired), None)


__all__ = [
    "EXIT_TIME_LIMIT",
    "TimeLimit",
    "TimeLimitReached",
    "fired",
    "parse_duration",
]
