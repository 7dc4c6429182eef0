"""The DEC / IDEC / ADEC fully connected auto-encoder (docs/methods.md §1.6).

Encoder d-500-500-2000-d_z (ReLU hidden, **linear** embedding), decoder d_z-2000-500-500-d
(ReLU hidden, linear output), weights U(±sqrt(1/fan_in)) = VarianceScaling(1/3, fan_in,
uniform), zero biases [DEC-keras, DynAE]. Image inputs are flattened inside the encoder, so the
model (and its export) takes images in their own shape; the decoder outputs flat vectors.
"""

from __future__ import annotations

import math

import keras
from keras import layers

DEC_INIT = "dec_uniform"


def dense_initializer(name: str = DEC_INIT):
    """DEC-keras' initialiser (U(±sqrt(1/fan_in))), or any Keras initializer name."""
    if name == DEC_INIT:
        return keras.initializers.VarianceScaling(
            scale=1 / 3, mode="fan_in", distribution="uniform"
        )
    return keras.initializers.get(name)


def build_mlp(
    input_shape: tuple[int, ...],
    units: tuple[int, ...],
    output_units: int,
    output_activation: str | None = None,
    kernel_initializer: str = DEC_INIT,
    name: str = "mlp",
) -> keras.Model:
    """Flatten -> Dense(ReLU) per entry of ``units`` -> Dense(output_units, output_activation)."""
    x_in = keras.Input(shape=tuple(input_shape), name="x")
    t = layers.Flatten(name="flatten")(x_in) if len(input_shape) > 1 else x_in
    for i, u in enumerate(units):
        t = layers.Dense(
            u,
            activation="relu",
            kernel_initializer=dense_initializer(kernel_initializer),
            name=f"dense{i + 1}",
        )(t)
    out = layers.Dense(
        output_units,
        activation=output_activation,
        kernel_initializer=dense_initializer(kernel_initializer),
        name="out",
    )(t)
    return keras.Model(x_in, out, name=name)


def build_mlp_autoencoder(
    input_shape: tuple[int, ...],
    latent_dim: int = 10,
    hidden: tuple[int, ...] = (500, 500, 2000),
    kernel_initializer: str = DEC_INIT,
    name: str = "mlp_ae",
) -> tuple[keras.Model, keras.Model]:
    """Returns ``(encoder, decoder)``; ``decoder(encoder(x))`` is ``x`` flattened."""
    d = math.prod(input_shape)
    encoder = build_mlp(
        input_shape, hidden, latent_dim, None, kernel_initializer, name=f"{name}_encoder"
    )
    decoder = build_mlp(
        (latent_dim,), tuple(reversed(hidden)), d, None, kernel_initializer, name=f"{name}_decoder"
    )
    return encoder, decoder
