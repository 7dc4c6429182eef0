"""Critics T(u, v) of the JSD mutual-information estimators (DIM; DFVC Eqs. 13-19).

One score per pair. The global critic scores vector pairs; the local critic scores a vector
against every location of a feature map (the vector is tiled over the map and concatenated with
it, then 1×1 convolutions — here Dense layers over the channel axis, which are exactly that).
No batch normalisation in critics [CHOICE].
"""

from __future__ import annotations

import keras
from keras import layers, ops

from tfdeepclust.nn.precision import dtype_policy


@keras.saving.register_keras_serializable(package="tfdeepclust")
class PairCritic(layers.Layer):
    """``T(u, v)``: an MLP (``hidden`` ReLU widths, then 1) on ``[u; v]``.

    ``u`` may be ``[B, d_u]`` (global critic) or a map ``[B, M, M, c]`` (local critic, with ``v``
    ``[B, d_v]`` tiled over it). Returns scores ``[B]`` or ``[B, M, M]``.
    """

    def __init__(self, hidden=(512, 512), precision: str = "float32", **kwargs):
        super().__init__(**kwargs)
        self.hidden = tuple(int(h) for h in hidden)
        self.precision = precision
        # The hidden layers compute at ``precision`` (float32 weights); the score in float32.
        policy = dtype_policy(precision)
        self.dense = [
            layers.Dense(h, activation="relu", dtype=policy, name=f"hidden{i + 1}")
            for i, h in enumerate(self.hidden)
        ]
        self.score = layers.Dense(1, dtype="float32", name="score")

    def build(self, u_shape, v_shape=None):
        # Sublayers are built lazily on first call; nothing to create here.
        self.built = True

    def call(self, u, v):
        if len(u.shape) == 4:  # local: tile v over the M × M locations of u
            m1, m2 = ops.shape(u)[1], ops.shape(u)[2]
            v = ops.broadcast_to(v[:, None, None, :], (ops.shape(v)[0], m1, m2, ops.shape(v)[-1]))
        t = ops.concatenate([ops.cast(u, v.dtype), v], axis=-1)
        for layer in self.dense:
            t = layer(t)
        return ops.squeeze(self.score(t), axis=-1)

    def get_config(self):
        return {**super().get_config(), "hidden": list(self.hidden), "precision": self.precision}
