"""Progress lines with an ETA: about ten per phase, instead of Keras' line per epoch."""

from __future__ import annotations

import math
import time

import keras

# Lines a phase prints at the default verbosity (plus its first and last).
LINES_PER_PHASE = 10


def print_every(total: int, lines: int = LINES_PER_PHASE) -> int:
    """The step between progress lines so that ``total`` units print about ``lines`` lines."""
    return max(1, math.ceil(total / lines))


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"12 min 05 s"`` or ``"2 h 03 min"``."""
    s = max(int(round(seconds)), 0)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def keras_verbosity(verbose: int, callbacks: list, progress: keras.callbacks.Callback):
    """``(fit verbose, callbacks)`` for our verbosity: 2 is Keras' line per epoch, 1 our
    ``progress`` lines instead, 0 nothing."""
    if verbose == 1:
        return 0, [*callbacks, progress]
    return (2 if verbose >= 2 else 0), callbacks


class RateClock:
    """Units per second over this process's share of a phase, and the time left."""

    def __init__(self, done: int, total: int):
        self.total = total
        self.start = done
        self._t0 = time.perf_counter()

    def seconds_per_unit(self, done: int) -> float | None:
        n = done - self.start
        return (time.perf_counter() - self._t0) / n if n > 0 else None

    def eta(self, done: int) -> str:
        per = self.seconds_per_unit(done)
        return "?" if per is None else format_duration(per * (self.total - done))


class EpochProgress(keras.callbacks.Callback):
    """Prints ``[<phase>] epoch 20/50  loss 6.31  12.1 s/epoch  ETA 6 min 03 s`` every
    :func:`print_every` epochs, on the first and on the last (a resumed fit counts from where it
    resumed)."""

    def __init__(self, phase: str, epochs: int):
        super().__init__()
        self.phase, self.epochs = phase, epochs
        self.every = print_every(epochs)
        self._clock: RateClock | None = None

    def on_epoch_begin(self, epoch, logs=None):
        if self._clock is None:
            self._clock = RateClock(epoch, self.epochs)

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        first = self._clock is not None and done == self._clock.start + 1
        if not (first or done % self.every == 0 or done == self.epochs):
            return
        figures = "  ".join(f"{k} {v:.4g}" for k, v in (logs or {}).items() if k == "loss")
        per = self._clock.seconds_per_unit(done)
        rate = "" if per is None else f"  {per:.1f} s/epoch"
        eta = "" if done == self.epochs else f"  ETA {self._clock.eta(done)}"
        print(f"[{self.phase}] epoch {done}/{self.epochs}  {figures}{rate}{eta}", flush=True)


__all__ = [
    "EpochProgress",
    "LINES_PER_PHASE",
    "RateClock",
    "format_duration",
    "keras_verbosity",
    "print_every",
]
