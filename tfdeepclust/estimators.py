"""scikit-learn estimators: ``ASC2D(n_clusters=10).fit(x)``, then ``labels_``, ``predict`` ...

Each estimator runs the scripts' own path (:func:`tfdeepclust.train`: the same pretraining,
initialisation, clustering, stop rules and results), so ``ADEC(budget="paper").fit(x)`` is
``python train_adec.py --budget paper`` on ``x``. Its parameters are the script's options with
``_`` for ``-`` and the same defaults, which are read from the config dataclasses (one place
for each default). ``seed`` is the random state.

Where the run's files go: with ``output_dir`` the fit keeps what a script run keeps there
(``results.json``, labels, checkpoints, pictures, the SavedModel under ``export_dir``), and
fitting again with the same data and settings resumes or returns the finished run. Without
it the run happens in a temporary folder that is removed afterwards (no export, no
pictures), and only the fitted attributes remain.

Fitted attributes: ``labels_``, ``cluster_centers_`` (``[K, d]`` in the embedding space: the
clustering layer's centroids, or for DFVC, which has none, the mean embedding of each
cluster), ``n_features_in_``, ``model_`` (the ``keras.Model``), ``results_`` (the results
dict, as in ``results.json``).
"""

from __future__ import annotations

import dataclasses
import inspect
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from tfdeepclust.api import get_recipe
from tfdeepclust.config import TEMPORARY_OUTPUTS, CommonConfig
from tfdeepclust.console import quiet_startup
from tfdeepclust.data.loading import to_model_units

quiet_startup()  # the classes are built from the recipes' configs, which import TensorFlow

# CommonConfig fields that are not estimator parameters: the data comes as arrays (``fit(x)``),
# and a fit always writes its results (a temporary folder is new every time).
_NOT_PARAMETERS = frozenset(
    {
        "dataset",
        "data_dir",
        "tfds_dir",
        "image_size",
        "label_column",
        "subset",
        "overwrite",
        "fresh",
        "extra",
        "n_clusters",  # first, as in every scikit-learn clusterer
    }
)


def _parameters(method: str, fixed: dict, defaults: dict) -> list[inspect.Parameter]:
    """``n_clusters``, the method's hyperparameters, then the run options, with their defaults
    from the config dataclasses (``defaults`` overrides some)."""
    recipe = get_recipe(method)
    params = [inspect.Parameter("n_clusters", inspect.Parameter.KEYWORD_ONLY, default=None)]
    for cls, skip in ((recipe.config_cls, set(fixed)), (CommonConfig, _NOT_PARAMETERS)):
        for f in dataclasses.fields(cls):
            if f.name in skip:
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            default = defaults.get(f.name, default)
            params.append(
                inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default)
            )
    return params


class DeepClusterer(ClusterMixin, TransformerMixin, BaseEstimator):
    """A scikit-learn clusterer around one method's training run (see the module docstring).

    Subclasses set ``method`` (``"asc2d"``, ``"adec"``, ``"dfvc"``), ``fixed`` (config values
    the class stands for, e.g. ADEC's ``mode="dec"`` for :class:`DEC`) and ``defaults`` (a
    parameter's default where the class's name says more than the recipe's default); their
    ``__init__`` signature is generated from the configs.
    """

    method: ClassVar[str]
    fixed: ClassVar[dict] = {}
    defaults: ClassVar[dict] = {}
    images_only: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        params = _parameters(cls.method, cls.fixed, cls.defaults)
        names = [p.name for p in params]

        def __init__(self, **kw):  # noqa: N807 (the generated constructor)
            unknown = sorted(set(kw) - set(names))
            if unknown:
                raise TypeError(f"{cls.__name__} got unknown parameters {unknown}")
            for p in params:
                setattr(self, p.name, kw.get(p.name, p.default))

        self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        __init__.__signature__ = inspect.Signature([self_param, *params])
        __init__.__qualname__ = f"{cls.__name__}.__init__"
        __init__.__doc__ = f"Parameters: {', '.join(names)} (see the module docstring)."
        cls.__init__ = __init__

    # === Fitting ===
    def fit(self, X, y=None):
        """Trains on ``X`` (``[N, D]`` features, or ``[N, H, W(, C)]`` images); ``y``, when
        given, only evaluates (ACC / NMI / ARI in ``results_``), as everywhere in the project."""
        from tfdeepclust.api import train

        x = self._validate(X, reset=True)
        options = {k: v for k, v in self.get_params().items() if k != "n_clusters"}
        options.update(self.fixed)
        y = None if y is None else np.asarray(y)
        with tempfile.TemporaryDirectory(prefix="tfdeepclust-") as tmp:
            if self.output_dir is None:  # nothing outlives the fit but the attributes
                options.update(
                    output_dir=str(Path(tmp) / "run"),
                    pretrain_cache_dir=str(Path(tmp) / "pretrained"),
                    export=False,
                    pictures=False,
                    extra={TEMPORARY_OUTPUTS: True},  # the summary names no deleted file
                )
            result = train(self.method, x, y, n_clusters=self.n_clusters, **options)
        if self.output_dir is None:  # those files are gone with the folder
            for key in ("results_path", "labels_path", "outputs_path", "export_path"):
                if key in result:
                    result[key] = None
        self.model_ = result.pop("model")
        self.labels_ = np.asarray(result.pop("labels"), dtype=np.int64)
        embedding = result.pop("embedding")
        self.results_ = result
        self._sample_shape = tuple(int(d) for d in self.model_.sample_shape)
        self.cluster_centers_ = self._centers(embedding)
        return self

    # === Using the fitted model ===
    def predict(self, X) -> np.ndarray:
        """The cluster of each sample ``[N]``."""
        return self._infer(X)["labels"].astype(np.int64)

    def predict_proba(self, X) -> np.ndarray:
        """Cluster probabilities ``[N, K]`` (``predict`` is their argmax)."""
        return self._infer(X)["probabilities"]

    def transform(self, X) -> np.ndarray:
        """The learned embedding ``[N, d]`` (the space ``cluster_centers_`` live in)."""
        return self._infer(X)["embedding"]

    def fit_transform(self, X, y=None, **fit_params) -> np.ndarray:
        """Fits, then the embedding of ``X``."""
        return self.fit(X, y).transform(X)

    def _infer(self, X) -> dict[str, np.ndarray]:
        check_is_fitted(self, "model_")
        x = self._validate(X, reset=False)
        return self.model_.infer(to_model_units(x, self.results_["data_info"]))

    def _validate(self, X, reset: bool) -> np.ndarray:
        x = validate_data(
            self,
            X,
            reset=reset,
            dtype="numeric",  # integer images stay integers: fit scales them as the scripts do
            allow_nd=True,
            ensure_min_samples=2 if reset else 1,
        )
        if x.ndim not in (2, 3, 4):
            raise ValueError(f"X has shape {x.shape}; expected [N, D], [N, H, W] or [N, H, W, C].")
        if self.images_only and x.ndim == 2:
            raise ValueError(
                f"{type(self).__name__} is a convolutional method and needs images "
                f"([N, H, W] or [N, H, W, C]); X has shape {x.shape}. For features use ADEC, "
                "DEC or IDEC."
            )
        got = x.shape[1:] + ((1,) if x.ndim == 3 else ())
        if not reset and tuple(got) != self._sample_shape:
            raise ValueError(
                f"X has samples of shape {x.shape[1:]}; the model takes {self._sample_shape}."
            )
        return x

    def _centers(self, embedding: np.ndarray) -> np.ndarray:
        """The clustering layer's centroids, or the mean ``embedding`` (of the training samples)
        of each cluster for a method without centroids."""
        centroids = getattr(self.model_.clustering, "centroids", None)
        if centroids is not None:
            return np.asarray(centroids.numpy())
        k = int(self.results_["n_clusters"])
        centres = np.zeros((k, embedding.shape[1]), np.float32)
        for c in range(k):
            if np.any(self.labels_ == c):
                centres[c] = embedding[self.labels_ == c].mean(axis=0)
        return centres

    # === Pickling: the Keras model travels as its weights and is rebuilt ===
    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        if model is not None:
            state["_model_weights"] = [np.asarray(w) for w in model.get_weights()]
        return state

    def __setstate__(self, state):
        weights = state.pop("_model_weights", None)
        self.__dict__.update(state)
        if weights is not None:
            self.model_ = self._rebuild_model()
            self.model_.set_weights(weights)

    def _rebuild_model(self):
        """The fitted run's network, built from its recorded configuration."""
        from tfdeepclust.data import from_arrays
        from tfdeepclust.results import configs_from_results

        common, cfg = configs_from_results(self.results_)
        k = int(self.results_["n_clusters"])
        stub = from_arrays(np.zeros((k, *self._sample_shape), np.float32), np.arange(k), k)
        return get_recipe(self.method).build(cfg, common, stub)


class ASC2D(DeepClusterer):
    """ASC2D (Xia et al. 2021) as a scikit-learn clusterer; images only."""

    method = "asc2d"
    images_only = True


class ADEC(DeepClusterer):
    """ADEC (Mrabah et al. 2020) as a scikit-learn clusterer; ``mode`` picks ADEC (the default
    here, as the name says; ``train_adec.py`` defaults to DEC*) / DEC* / IDEC*."""

    method = "adec"
    defaults = {"mode": "adec"}


class DEC(DeepClusterer):
    """DEC* (ADEC's baseline: DEC's self-training on ADEC's pretraining)."""

    method = "adec"
    fixed = {"mode": "dec"}


class IDEC(DeepClusterer):
    """IDEC* (ADEC's baseline: DEC with the reconstruction kept)."""

    method = "adec"
    fixed = {"mode": "idec"}


class DFVC(DeepClusterer):
    """DFVC (Ji et al. 2022) as a scikit-learn clusterer; images only."""

    method = "dfvc"
    images_only = True


__all__ = ["ADEC", "ASC2D", "DEC", "DFVC", "IDEC", "DeepClusterer"]
