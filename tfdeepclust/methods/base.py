"""The contract shared by every clustering model: inference API, k-means init, targets.

Subclasses build ``self.encoder`` (inputs -> embedding) and ``self.clustering`` (a
:class:`~tfdeepclust.nn.clustering.ClusteringLayer` or a softmax head) and override
``train_step``. Inference follows scikit-learn naming on top of Keras' batched machinery:
``predict`` -> hard labels, ``predict_proba`` -> cluster probabilities, ``embed`` -> embedding.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import keras
import numpy as np
from keras import ops

from tfdeepclust.config import config_dict
from tfdeepclust.distribute import agree_with_chief
from tfdeepclust.training.kmeans import kmeans_init
from tfdeepclust.training.target_refresh import TargetStore


def hyperparameters_from(hp_cls, source=None, overrides: dict | None = None):
    """A model's hyperparameters: the defaults of ``hp_cls`` (the one place they are written),
    then the values of ``source``, then ``overrides``.

    Args:
        hp_cls: The method's hyperparameter dataclass.
        source: None, an ``hp_cls`` instance, or a recipe config that extends ``hp_cls`` (its
            training-only fields are ignored).
        overrides: Field values (a model's keyword arguments, or its ``get_config``).
    """
    names = [f.name for f in dataclasses.fields(hp_cls)]
    values = {} if source is None else {n: getattr(source, n) for n in names}
    unknown = set(overrides or {}) - set(names)
    if unknown:
        raise TypeError(f"{hp_cls.__name__} has no field(s) {sorted(unknown)}")
    values.update(overrides or {})
    # JSON (get_config) turns tuples into lists; the dataclass holds tuples.
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return hp_cls(**values)


class DeepClusteringModel(keras.Model):
    """Base class of ASC2D, ADEC and DFVC models.

    Args:
        input_shape: Shape of one sample, ``(H, W, C)`` or ``(D,)``.
        n_clusters: Number of clusters K.
    """

    method_name = "base"
    # The dataclass of the model's hyperparameters (defaults, ``--help`` text); a subclass that
    # sets it takes them as ``hp=`` or as keywords and gets ``self.hp`` and ``get_config``.
    hyperparameters_cls: ClassVar[type | None] = None

    def __init__(self, input_shape, n_clusters: int, hp=None, **kwargs):
        resolved = None
        if self.hyperparameters_cls is not None:
            names = {f.name for f in dataclasses.fields(self.hyperparameters_cls)}
            given = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
            resolved = hyperparameters_from(self.hyperparameters_cls, hp, given)
        elif hp is not None:
            raise TypeError(f"{type(self).__name__} takes no hp")
        super().__init__(**kwargs)
        self.hp = resolved
        self.sample_shape = tuple(int(v) for v in input_shape)
        self.n_clusters = int(n_clusters)

    def build_on_dummy(self) -> None:
        """Builds every variable by calling the model on one zero sample (needed before export,
        weight loading and KerasTuner reloads of subclassed models)."""
        self(np.zeros((1, *self.sample_shape), dtype="float32"))

    # === Targets (not part of the exported model: they depend on the training set) ===
    def attach_targets(self, n_samples: int) -> TargetStore:
        """Creates the ``[N, K]`` target store the train step gathers from."""
        store = TargetStore(n_samples, self.n_clusters)
        # object.__setattr__ bypasses Keras/TF tracking: the store is training state that belongs
        # in checkpoints, not in exported or .keras-saved models.
        object.__setattr__(self, "_target_store", store)
        if getattr(self, "train_function", None) is not None:
            self.make_train_function(force=True)
        return store

    @property
    def target_store(self) -> TargetStore:
        store = self.__dict__.get("_target_store")
        if store is None:
            raise RuntimeError("Call attach_targets(n_samples) before training.")
        return store

    # === Optimizers (for checkpoints) ===
    def optimizers_by_name(self) -> dict:
        """Every optimizer the train step uses, by checkpoint name."""
        return {"optimizer": self.optimizer}

    def optimizer_variable_groups(self) -> dict:
        """The variable list each optimizer of :meth:`optimizers_by_name` updates."""
        return {"optimizer": self.trainable_variables}

    def build_optimizers(self) -> None:
        """Creates every optimizer's slots now (they are otherwise built in the first step)."""
        groups = self.optimizer_variable_groups()
        for name, opt in self.optimizers_by_name().items():
            if not opt.built:
                opt.build(groups[name])

    def fit(self, *args, **kwargs):
        """Keras ``fit``, with every optimizer built first: under ``tf.distribute`` an optimizer
        must not create its slots inside the replicated step (a second optimizer would). On a
        ``tf.data.Dataset``, ``shuffle`` defaults to False (the pipeline decides)."""
        self.build_optimizers()
        data = args[0] if args else kwargs.get("x")
        if hasattr(data, "element_spec"):  # a tf.data pipeline shuffles itself (or not)
            kwargs.setdefault("shuffle", False)  # Keras would warn that shuffle=True is ignored
        return super().fit(*args, **kwargs)

    # === Inference ===
    def assignment_probabilities(self, q):
        """Maps soft assignments Q to the probabilities labels are read from (default: Q)."""
        return q

    def call(self, x, training=False):
        z = self.encoder(x, training=training)
        return self.assignment_probabilities(self.clustering(z))

    def predict_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        z = self.encoder(x, training=False)
        q = self.clustering(z)
        proba = self.assignment_probabilities(q)
        return {
            "labels": ops.cast(ops.argmax(proba, axis=-1), "int32"),
            "probabilities": proba,
            "embedding": z,
            "q": q,
        }

    def infer(self, x, batch_size: int = 1024) -> dict[str, np.ndarray]:
        """One batched pass returning labels, probabilities, embedding and Q for ``x``."""
        return super().predict(x, batch_size=batch_size, verbose=0)

    def predict(self, x, batch_size: int = 1024, verbose=0, **kwargs):  # noqa: D417
        """Hard cluster labels ``[N]`` (scikit-learn convention; Keras' raw output is ``infer``)."""
        return self.infer(x, batch_size)["labels"]

    def predict_proba(self, x, batch_size: int = 1024) -> np.ndarray:
        """Cluster probabilities ``[N, K]`` that :meth:`predict` takes the argmax of."""
        return self.infer(x, batch_size)["probabilities"]

    def embed(self, x, batch_size: int = 1024) -> np.ndarray:
        """The latent representation ``[N, d]``."""
        return self.infer(x, batch_size)["embedding"]

    def soft_assign(self, x, batch_size: int = 1024) -> np.ndarray:
        """Student-t soft assignments Q ``[N, K]`` (D1 in ASC2D)."""
        return self.infer(x, batch_size)["q"]

    def init_centroids(self, x: np.ndarray, seed: int, n_init: int = 20) -> np.ndarray:
        """k-means (``n_init`` restarts) on the embedding of all of ``x``; returns its labels."""
        centres, labels = kmeans_init(self.embed(x), self.n_clusters, seed, n_init)
        self.clustering.set_centroids(agree_with_chief(centres, self.distribute_strategy))
        return labels

    def get_config(self):
        config = {"input_shape": self.sample_shape, "n_clusters": self.n_clusters}
        if self.hyperparameters_cls is not None:
            config.update(config_dict(self.hp))
        return config
