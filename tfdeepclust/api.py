"""Training from Python in one call: :func:`train` any method on arrays, a ``tf.data.Dataset``
or a named data set, with the scripts' options as keyword arguments."""

from __future__ import annotations

import dataclasses
import difflib
import importlib

METHODS = ("asc2d", "adec", "dfvc")


def get_recipe(method: str):
    """The recipe of ``"asc2d"``, ``"adec"`` or ``"dfvc"``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return importlib.import_module(f"tfdeepclust.recipes.{method}").RECIPE


def train(method: str, data, y=None, *, n_clusters: int | None = None, **options) -> dict:
    """Trains ``method`` on ``data`` end to end, as ``python train_<method>.py`` does.

    The run writes what a script run writes (``results.json``, ``labels.csv``, checkpoints, the
    SavedModel unless ``export=False``), resumes when called again with the same settings, and
    uses the method's defaults (the paper's hyperparameters) for everything not given.

    Args:
        method: ``"asc2d"``, ``"adec"`` or ``"dfvc"``.
        data: A data-set name or spec as on the command line (``"usps"``, ``"npz:PATH"``, ...),
            a ``ClusteringData``, NumPy samples (``[N, H, W(, C)]`` images or ``[N, D]``
            features) or a ``tf.data.Dataset`` (see :func:`tfdeepclust.data.from_arrays`).
        y: Labels for NumPy samples (optional; used for ACC / NMI / ARI only).
        n_clusters: Number of clusters (default: the number of label classes).
        **options: Any script option, with ``_`` for ``-``: shared ones such as ``budget``,
            ``seed``, ``maxiter``, ``output_dir``, ``export``, ``preset``, ``data_dir`` (the
            ``CommonConfig`` fields), and the method's hyperparameters such as ``lambda1`` or
            ``mode`` (its config dataclass). ``name`` names in-memory data in output paths.

    Returns:
        The results dict (as in ``results.json``) plus ``labels`` (the cluster of every sample),
        ``embedding`` (every sample's learned representation) and ``model`` (the trained
        ``keras.Model``; ``model.predict(new_x)`` gives labels).

    Raises:
        TypeError: On an option that neither the shared nor the method's options have.
        DataError: On unusable data (the message names the fix).
        TimeLimitReached: ``time_limit`` (seconds or ``"90m"``) ended the pretraining; calling
            again continues it. A clustering phase it ended returns results with
            ``convergence.stop_reason == "time_limit"``, and calling again continues that too.
    """
    from tfdeepclust.console import DEFAULT_VERBOSE, quiet_startup

    quiet_startup(options.get("verbose", DEFAULT_VERBOSE))
    from tfdeepclust.config import CommonConfig
    from tfdeepclust.data import ClusteringData, from_arrays
    from tfdeepclust.run_spec import with_preset
    from tfdeepclust.runner import run

    recipe = get_recipe(method)
    common_names = {f.name for f in dataclasses.fields(CommonConfig)}
    method_names = {f.name for f in dataclasses.fields(recipe.config_cls)}
    name = options.pop("name", "arrays")
    presets = getattr(recipe, "presets", {}) or {}
    options = with_preset(presets, options.get("preset"), options)  # precedence: run_spec
    unknown = sorted(set(options) - common_names - method_names)
    if unknown:
        hints = {
            u: difflib.get_close_matches(u, [*common_names, *method_names], n=1) for u in unknown
        }
        said = ", ".join(
            f"{u!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for u, h in hints.items()
        )
        raise TypeError(
            f"train({method!r}) got unknown options {said}; see python train_{method}.py --help "
            "(options are the flags with _ for -)."
        )
    common_opts = {k: v for k, v in options.items() if k in common_names}
    method_opts = {k: v for k, v in options.items() if k in method_names}
    if isinstance(data, str | ClusteringData) and y is not None:
        raise ValueError(
            "y is only for NumPy samples or a tf.data.Dataset; named data sets and a "
            "ClusteringData carry their own labels."
        )
    if isinstance(data, str):
        common_opts["dataset"] = data
        data = None
    elif not isinstance(data, ClusteringData):
        data = from_arrays(
            data, y, n_clusters, name=name, row_norm=common_opts.get("row_norm", "none")
        )
    if n_clusters is not None:
        common_opts["n_clusters"] = n_clusters
    common = CommonConfig(**common_opts)
    cfg = recipe.config_cls(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in method_opts.items()}
    )
    return run(recipe, common, cfg, data=data)


__all__ = ["METHODS", "get_recipe", "train"]
