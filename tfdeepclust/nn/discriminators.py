"""MLP discriminators/critics that output one logit per sample."""

from __future__ import annotations

import keras
from keras import layers

from tfdeepclust.nn.precision import dtype_policy


def build_mlp_discriminator(
    input_dim: int,
    hidden: tuple[int, ...] = (2000, 2000),
    kernel_initializer="glorot_uniform",
    name: str = "discriminator",
    precision: str = "float32",
) -> keras.Model:
    """Dense(ReLU) hidden layers then Dense(1) logit (sigmoid applied inside the BCE loss).

    ASC2D: ``hidden=(2000, 2000)`` on K-dim distribution rows. ADEC: ``(500, 500, 2000)`` on data.
    ``precision`` (``nn.precision``): the hidden layers compute in bfloat16 with float32 weights
    when it resolves to bfloat16; the logit layer always computes in float32.
    """
    policy = dtype_policy(precision)
    x_in = keras.Input(shape=(input_dim,), name="x")
    t = x_in
    for i, units in enumerate(hidden):
        t = layers.Dense(
            units,
            activation="relu",
            kernel_initializer=kernel_initializer,
            dtype=policy,
            name=f"hidden{i + 1}",
        )(t)
    logit = layers.Dense(1, kernel_initializer=kernel_initializer, dtype="float32", name="logit")
    return keras.Model(x_in, logit(t), name=name)
