"""The convolutional auto-encoder of DCEC / ASC2D (docs/methods.md §1.6), for any image size.

Encoder: Conv(32, 5x5, s2) -> Conv(64, 5x5, s2) -> Conv(128, 3x3, s2) -> Flatten -> Dense(d_z).
The third convolution uses ``same`` padding when the (padded) side is divisible by 8, else
``valid`` (28 -> 14 -> 7 -> 3). Sides that fit neither rule are edge-padded to the next size
that does (55 -> 56) and the reconstruction is cropped back.
"""

from __future__ import annotations

import keras
from keras import layers, ops


def _fits(side: int) -> bool:
    return side % 8 == 0 or (side % 4 == 0 and (side // 4) % 2 == 1)


def padded_side(side: int) -> int:
    """Smallest size >= ``side`` the stride-2 stack inverts exactly."""
    while not _fits(side):
        side += 1
    return side


@keras.saving.register_keras_serializable(package="tfdeepclust")
class EdgePad2D(layers.Layer):
    """Pads images at the bottom/right by repeating edge pixels (``[B, H, W, C]``)."""

    def __init__(self, pad_h: int, pad_w: int, **kwargs):
        super().__init__(**kwargs)
        self.pad_h, self.pad_w = int(pad_h), int(pad_w)

    def call(self, x):
        # Repeat the last row/column (the TF backend of ops.pad has no "edge" mode).
        if self.pad_h:
            x = ops.concatenate([x, ops.repeat(x[:, -1:], self.pad_h, axis=1)], axis=1)
        if self.pad_w:
            x = ops.concatenate([x, ops.repeat(x[:, :, -1:], self.pad_w, axis=2)], axis=2)
        return x

    def compute_output_shape(self, s):
        grow = lambda v, p: None if v is None else v + p  # noqa: E731
        return (s[0], grow(s[1], self.pad_h), grow(s[2], self.pad_w), s[3])

    def get_config(self):
        return {**super().get_config(), "pad_h": self.pad_h, "pad_w": self.pad_w}


def build_conv_autoencoder(
    input_shape: tuple[int, int, int],
    latent_dim: int,
    filters: tuple[int, int, int] = (32, 64, 128),
    embedding_activation: str | None = None,
    name: str = "cae",
) -> tuple[keras.Model, keras.Model]:
    """Builds the encoder and the mirrored decoder.

    Args:
        input_shape: ``(H, W, C)``.
        latent_dim: Embedding width (ASC2D: the number of clusters).
        filters: Channels of the three convolutions (decoder mirrors them).
        embedding_activation: None (linear, DCEC) or e.g. ``"relu"`` (ASC2D's literal text).

    Returns:
        ``(encoder, decoder)`` functional models; ``decoder(encoder(x))`` has ``x``'s shape.
    """
    h, w, c = input_shape
    ph, pw = padded_side(h), padded_side(w)
    pad3 = ["same" if ph % 8 == 0 else "valid", "same" if pw % 8 == 0 else "valid"]
    if pad3[0] != pad3[1]:
        # A per-axis padding rule is not expressible in one Conv2D; pad both to a size % 8 == 0.
        ph, pw = ((ph + 7) // 8) * 8, ((pw + 7) // 8) * 8
        pad3 = ["same", "same"]
    f1, f2, f3 = filters
    init = "glorot_uniform"

    x_in = keras.Input(shape=input_shape, name="x")
    t = EdgePad2D(ph - h, pw - w, name="pad")(x_in) if (ph, pw) != (h, w) else x_in
    t = layers.Conv2D(
        f1, 5, strides=2, padding="same", activation="relu", kernel_initializer=init, name="conv1"
    )(t)
    t = layers.Conv2D(
        f2, 5, strides=2, padding="same", activation="relu", kernel_initializer=init, name="conv2"
    )(t)
    t = layers.Conv2D(
        f3, 3, strides=2, padding=pad3[0], activation="relu", kernel_initializer=init, name="conv3"
    )(t)
    feat_shape = tuple(int(v) for v in t.shape[1:])
    t = layers.Flatten(name="flatten")(t)
    z = layers.Dense(
        latent_dim, activation=embedding_activation, kernel_initializer=init, name="embedding"
    )(t)
    encoder = keras.Model(x_in, z, name=f"{name}_encoder")

    z_in = keras.Input(shape=(latent_dim,), name="z")
    t = layers.Dense(
        feat_shape[0] * feat_shape[1] * feat_shape[2],
        activation="relu",
        kernel_initializer=init,
        name="dense",
    )(z_in)
    t = layers.Reshape(feat_shape, name="reshape")(t)
    t = layers.Conv2DTranspose(
        f2,
        3,
        strides=2,
        padding=pad3[0],
        activation="relu",
        kernel_initializer=init,
        name="deconv3",
    )(t)
    t = layers.Conv2DTranspose(
        f1, 5, strides=2, padding="same", activation="relu", kernel_initializer=init, name="deconv2"
    )(t)
    t = layers.Conv2DTranspose(
        c, 5, strides=2, padding="same", kernel_initializer=init, name="deconv1"
    )(t)
    if (ph, pw) != (h, w):
        t = layers.Cropping2D(((0, ph - h), (0, pw - w)), name="crop")(t)
    decoder = keras.Model(z_in, t, name=f"{name}_decoder")
    return encoder, decoder
