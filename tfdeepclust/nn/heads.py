"""Softmax cluster heads: one head, or IIC's several sub-heads of which the best one is read."""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="tfdeepclust")
class SoftmaxHeads(layers.Dense):
    """``n_heads`` softmax heads of ``n_classes`` outputs on one input.

    One Dense layer of ``n_heads · n_classes`` units, so a single head has exactly the variables of
    ``Dense(n_classes, activation="softmax")``. :meth:`all_heads` gives every head (training);
    calling the layer gives the head that is read (inference, export).

    With several heads (IIC's sub-heads, Ji, Henriques & Vedaldi 2019), each is trained by the
    same objective from its own initialisation, and the head read is the one whose running
    training objective is best: :meth:`record` keeps an exponential moving average of each head's
    score (higher is better), so the choice needs no labels and travels with the weights.

    Args:
        n_classes: Outputs of each head (K).
        n_heads: Number of heads; 1 = a plain softmax head.
        score_decay: Decay of the running score per :meth:`record` call.
        **kwargs: Dense's other arguments (``kernel_initializer``, ``name``, ...).
    """

    def __init__(self, n_classes: int, n_heads: int = 1, score_decay: float = 0.98, **kwargs):
        kwargs.pop("units", None)
        kwargs.pop("activation", None)
        super().__init__(int(n_classes) * int(n_heads), **kwargs)
        self.n_classes = int(n_classes)
        self.n_heads = int(n_heads)
        self.score_decay = float(score_decay)
        if self.n_heads < 1:
            raise ValueError(f"n_heads must be >= 1, got {n_heads}")
        self.head_score = None

    def build(self, input_shape):
        super().build(input_shape)
        if self.n_heads > 1:
            # Identical on every replica (the scores are global-batch statistics): "mean" keeps it.
            self.head_score = self.add_weight(
                name="head_score",
                shape=(self.n_heads,),
                initializer="zeros",
                trainable=False,
                aggregation="mean",
            )

    def all_heads(self, x):
        """Every head's probabilities, ``[B, n_heads, n_classes]``."""
        if not self.built:  # a method call bypasses Layer.__call__, which builds
            self.build(tuple(x.shape))
        logits = ops.reshape(super().call(x), (-1, self.n_heads, self.n_classes))
        return ops.softmax(logits, axis=-1)

    def selected_head(self):
        """Index of the head that is read (0 with one head)."""
        if self.head_score is None:
            return 0
        return ops.argmax(self.head_score)

    def call(self, x):
        probs = self.all_heads(x)
        if self.n_heads == 1:
            return probs[:, 0]
        return ops.take(probs, self.selected_head(), axis=1)

    def record(self, scores) -> None:
        """Feeds one step's per-head scores ``[n_heads]`` (higher is better) to the average."""
        if self.head_score is None:
            return
        scores = ops.stop_gradient(ops.cast(scores, self.head_score.dtype))
        d = self.score_decay
        self.head_score.assign(d * self.head_score + (1.0 - d) * scores)

    # Dense saves its kernel and bias by position; the running score is saved by name after them.
    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.head_score is not None:
            store["head_score"] = self.head_score.numpy()

    def load_own_variables(self, store):
        super().load_own_variables(store)
        if self.head_score is not None:
            self.head_score.assign(store["head_score"])

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.n_classes)

    def get_config(self):
        config = super().get_config()
        config.pop("units", None)
        config.pop("activation", None)
        return {
            **config,
            "n_classes": self.n_classes,
            "n_heads": self.n_heads,
            "score_decay": self.score_decay,
        }
