"""Per-sample reconstruction error, shared by every auto-encoder loss (ASC2D Eq. 2, ACAI and
ADEC's decoder term, plain pretraining)."""

from __future__ import annotations

from keras import ops

REDUCTIONS = ("sum", "mean")


def flat(x):
    """``[B, ...]`` -> ``[B, d]``."""
    return ops.reshape(x, [ops.shape(x)[0], -1])


def squared_error(x, x_rec, reduction: str = "sum"):
    """``||x_i - x̂_i||²`` per sample ``[B]``, summed (``"sum"``) or averaged (``"mean"``, Keras
    ``mse``) over features. Both sides are flattened: MLP decoders return flat rows for images."""
    d = ops.square(flat(x) - flat(x_rec))
    if reduction == "sum":
        return ops.sum(d, axis=1)
    if reduction == "mean":
        return ops.mean(d, axis=1)
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
