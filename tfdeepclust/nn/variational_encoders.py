"""DFVC's encoders q(z|x): a 4-conv trunk for small grey images and a ResNet-18 for colour.

Every encoder maps ``x`` to ``[C(x), μ_z, log σ²_z]``: ``C`` is the last convolutional feature
map (``M × M × c``, the local critic's input), the two vectors come from fully connected layers on
``C`` (docs/methods.md §4.1, §4.6). Channels-last throughout (fastest on CPU).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from tfdeepclust.nn.precision import dtype_policy

TRUNKS = ("auto", "conv4", "resnet18")


def _batch_norm(name: str, dtype: str = "float32") -> layers.BatchNormalization:
    """BN whose batch statistics span the global batch when built under a multi-replica
    strategy (per-replica statistics would differ from one device's); plain BN otherwise."""
    strategy = tf.distribute.get_strategy()
    return layers.BatchNormalization(
        synchronized=strategy.num_replicas_in_sync > 1, dtype=dtype, name=name
    )


def _conv_bn_relu(t, filters, kernel, strides, init, name, dtype="float32"):
    t = layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer=init,
        dtype=dtype,
        name=f"{name}_conv",
    )(t)
    t = _batch_norm(name=f"{name}_bn", dtype=dtype)(t)
    return layers.ReLU(dtype=dtype, name=f"{name}_relu")(t)


def _gaussian_head(feature_map, latent_dim, fc_units, init, name, dtype="float32"):
    """flatten(C) -> FC (BN, ReLU) -> FC 2d split into μ_z, log σ²_z (computed in float32)."""
    t = layers.Flatten(dtype=dtype, name=f"{name}_flatten")(feature_map)
    t = layers.Dense(
        fc_units, use_bias=False, kernel_initializer=init, dtype=dtype, name=f"{name}_fc"
    )(t)
    t = _batch_norm(name=f"{name}_fc_bn", dtype=dtype)(t)
    t = layers.ReLU(dtype=dtype, name=f"{name}_fc_relu")(t)
    mu = layers.Dense(latent_dim, kernel_initializer=init, dtype="float32", name="mu")(t)
    # A separate linear layer (= splitting one FC 2d layer): the same function, clearer names.
    log_var = layers.Dense(latent_dim, kernel_initializer=init, dtype="float32", name="log_var")(t)
    return mu, log_var


def build_conv4_encoder(
    input_shape,
    latent_dim: int = 64,
    filters=(64, 128, 256, 512),
    fc_units: int = 1024,
    kernel_initializer="he_normal",
    name: str = "dfvc_encoder",
    precision: str = "float32",
) -> keras.Model:
    """DFVC's MNIST encoder: 4 conv (5×5, BN, ReLU) with 3 max-pools, then 2 FC layers.

    28×28 -> 14 -> 7 -> 3: ``C`` is 3×3×512 with the default widths (IIC's MNIST trunk
    [CHOICE]; the paper gives only "four convolutional layers and three pooling layers").
    ``precision`` (``nn.precision``): the trunk computes in bfloat16 with float32 weights when it
    resolves to bfloat16; μ_z and log σ²_z are always float32.
    """
    policy = dtype_policy(precision)
    x_in = keras.Input(shape=tuple(input_shape), name="x")
    t = x_in
    for i, f in enumerate(filters):
        t = _conv_bn_relu(t, f, 5, 1, kernel_initializer, f"block{i + 1}", policy)
        if i < len(filters) - 1:
            t = layers.MaxPooling2D(2, dtype=policy, name=f"block{i + 1}_pool")(t)
    mu, log_var = _gaussian_head(t, latent_dim, fc_units, kernel_initializer, "head", policy)
    return keras.Model(x_in, [t, mu, log_var], name=name)


def _basic_block(t, filters, strides, init, name, dtype="float32"):
    shortcut = t
    if strides != 1 or t.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters,
            1,
            strides=strides,
            use_bias=False,
            kernel_initializer=init,
            dtype=dtype,
            name=f"{name}_proj",
        )(t)
        shortcut = _batch_norm(name=f"{name}_proj_bn", dtype=dtype)(shortcut)
    t = _conv_bn_relu(t, filters, 3, strides, init, f"{name}_a", dtype)
    t = layers.Conv2D(
        filters,
        3,
        padding="same",
        use_bias=False,
        kernel_initializer=init,
        dtype=dtype,
        name=f"{name}_b_conv",
    )(t)
    t = _batch_norm(name=f"{name}_b_bn", dtype=dtype)(t)
    added = layers.Add(dtype=dtype, name=f"{name}_add")([t, shortcut])
    return layers.ReLU(dtype=dtype, name=f"{name}_out")(added)


def build_resnet18_encoder(
    input_shape,
    latent_dim: int = 64,
    base_filters: int = 64,
    fc_units: int = 1024,
    kernel_initializer="he_normal",
    name: str = "dfvc_encoder",
    precision: str = "float32",
) -> keras.Model:
    """ResNet-18 (4 stages × 2 basic blocks) with DFVC's Gaussian head (docs/methods.md §4.6).

    Stem [CHOICE]: 3×3 conv, stride 1, no max-pool for inputs up to 64 px (CIFAR-style:
    32×32 -> C of 4×4×512); stride 2 for larger inputs (96×96 STL-10 -> C of 6×6×512).

    Args:
        base_filters: Stage-1 width (stages use 1, 2, 4, 8 × it); 64 is ResNet-18.
        precision: As for :func:`build_conv4_encoder`.
    """
    policy = dtype_policy(precision)
    h = int(input_shape[0])
    x_in = keras.Input(shape=tuple(input_shape), name="x")
    stem_stride = 1 if h <= 64 else 2
    t = _conv_bn_relu(x_in, base_filters, 3, stem_stride, kernel_initializer, "stem", policy)
    for stage in range(4):
        filters = base_filters * 2**stage
        for block in range(2):
            strides = 2 if (stage > 0 and block == 0) else 1
            name_b = f"s{stage + 1}b{block + 1}"
            t = _basic_block(t, filters, strides, kernel_initializer, name_b, policy)
    mu, log_var = _gaussian_head(t, latent_dim, fc_units, kernel_initializer, "head", policy)
    return keras.Model(x_in, [t, mu, log_var], name=name)


def resolve_trunk(trunk: str, input_shape) -> str:
    """``"auto"``: the 4-conv trunk for grey images up to 64 px, ResNet-18 otherwise."""
    if trunk not in TRUNKS:
        raise ValueError(f"trunk must be one of {TRUNKS}, got {trunk!r}")
    if trunk != "auto":
        return trunk
    h, _, c = input_shape
    return "conv4" if (c == 1 and h <= 64) else "resnet18"
