"""A run's options, resolved once and in one order.

Precedence, highest first, the same for ``train_<method>.py``, :func:`tfdeepclust.train` and the
scikit-learn estimators:

1. an explicit option: a command-line flag, a keyword of ``train``, an estimator parameter;
2. the named ``--preset`` (``preset=``) of the method (e.g. ASC2D's ``paper``);
3. the ``--budget`` preset: pretraining epochs, iterations, refresh interval (DFVC's are in
   passes over the data, converted with the data size);
4. the data set's default: the refresh interval T (:func:`default_update_interval`), and what
   a recipe's ``resolve_config`` fills (ADEC's pretraining iterations, DFVC's Table I weights);
5. the dataclass default (``CommonConfig`` and the method's config).

Steps 1-2 need no data (:func:`with_preset`); steps 3-4 need its size and name
(:func:`resolve_budget`, :func:`resolve_method_config`, or both at once: :func:`resolve`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from tfdeepclust.config import CommonConfig


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run, after every default is filled."""

    method: str
    common: CommonConfig
    config: Any  # the method's config dataclass


def default_update_interval(dataset: str, n_samples: int) -> int:
    """DEC-keras' T: 140 for MNIST-full and Fashion-MNIST, 30 for USPS / MNIST-test / Reuters.

    For other data the same split by size: 140 from 20,000 samples on, else 30.
    """
    if dataset in ("mnist", "fashion_mnist"):
        return 140
    if dataset in ("usps", "mnist_test", "mice_protein", "reuters10k"):
        return 30
    return 140 if n_samples >= 20000 else 30


def with_preset(presets: dict, preset_name: str | None, given: dict[str, Any]) -> dict[str, Any]:
    """Steps 1-2: the explicit options ``given`` over the named preset's values.

    Args:
        presets: The recipe's ``presets``: ``{name: {"config": {...}, "common": {...}}}``.
        preset_name: The chosen one, or None.
        given: The explicit options (shared and method ones, by field name).

    Raises:
        ValueError: ``preset_name`` is not one of ``presets``.
    """
    if preset_name is None:
        return dict(given)
    if preset_name not in presets:
        raise ValueError(f"preset must be one of {sorted(presets)}, got {preset_name!r}")
    preset = presets[preset_name]
    return {**preset.get("common", {}), **preset.get("config", {}), **given}


def resolve_budget(recipe, common: CommonConfig, n_samples: int) -> CommonConfig:
    """Steps 3-4 for the shared options: unset budget fields from the budget preset, the data
    set's refresh interval, the method's tol, and the batch size clipped to the data."""
    if common.budget not in recipe.budgets:
        raise ValueError(f"budget must be one of {sorted(recipe.budgets)}, got {common.budget!r}")
    preset = dict(recipe.budgets[common.budget])
    batch_size = min(common.batch_size, n_samples)
    spe = math.ceil(n_samples / batch_size)  # steps per epoch
    if "epochs" in preset:  # budgets in passes over the data (DFVC): iterations for this data
        preset["maxiter"] = preset.pop("epochs") * spe
    if "update_epochs" in preset:
        preset["update_interval"] = preset.pop("update_epochs") * spe
    updates = {k: v for k, v in preset.items() if getattr(common, k) is None}
    updates["batch_size"] = batch_size
    if common.tol is None:
        updates["tol"] = recipe.default_tol
    common = dataclasses.replace(common, **updates)
    if common.update_interval is None:
        common = dataclasses.replace(
            common, update_interval=default_update_interval(common.dataset, n_samples)
        )
    return common


def resolve_method_config(recipe, cfg, common: CommonConfig, data):
    """Step 4 for the method's options: ``cfg`` with the recipe's data-dependent defaults
    (``recipe.resolve_config``, for recipes that have one). Every path that builds a run's
    model resolves through this."""
    resolve_config = getattr(recipe, "resolve_config", None)
    return cfg if resolve_config is None else resolve_config(cfg, common, data)


def resolve(recipe, common: CommonConfig, cfg, data) -> RunSpec:
    """Steps 3-4 for both, given the loaded data (``n_samples``, its name as ``dataset``)."""
    common = resolve_budget(recipe, common, data.n_samples)
    return RunSpec(recipe.name, common, resolve_method_config(recipe, cfg, common, data))
