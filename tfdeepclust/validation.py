"""Range checks of every option before a run starts (one rule set for the CLI and the API).

A bad value must stop the run with one message naming the option and the fix, before any data is
loaded or anything is trained: not as a TensorFlow traceback minutes later, and never accepted
silently (``--maxiter -1``). The method configs state their own exceptions to the default rules
(every number finite; floats >= 0; ints and widths >= 1) in two class attributes:

* ``POSITIVE``: floats that must be > 0 (learning rates, epsilons, degrees of freedom);
* ``ZERO_MEANS``: ints for which 0 is a meaningful value (``--diagnostics-every 0`` = off);
* ``FRACTIONS``: floats in [0, 1) (momentum).
"""

from __future__ import annotations

import dataclasses
import math
import typing


def flag(name: str) -> str:
    """The command-line spelling of a config field (``lr_ae`` -> ``--lr-ae``)."""
    return "--" + name.replace("_", "-")


# CommonConfig fields with a lower bound: (bound, what the value means).
_COMMON_MIN = {
    "n_clusters": (2, "the number of clusters"),
    "subset": (1, "samples to keep"),
    "seed": (0, "a random seed (NumPy needs it >= 0)"),
    "batch_size": (1, "samples per step"),
    "pretrain_epochs": (0, "pretraining epochs; 0 = none"),
    "maxiter": (0, "clustering iterations; 0 = none"),
    "update_interval": (1, "iterations between target refreshes"),
    "kmeans_n_init": (1, "k-means restarts"),
    "collapse_patience": (0, "collapsed refreshes that end a run; 0 = never"),
    "cpu_replicas": (0, "logical CPU replicas; 0 = as many as devices"),
}


def _number_error(name: str, value, low, strict: bool, meaning: str) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{flag(name)} must be a finite number, got {value}"
    if value < low or (strict and value == low):
        op = ">" if strict else ">="
        return f"{flag(name)} must be {op} {low} ({meaning}), got {value}"
    return None


def check_common(common) -> None:
    """Raises ValueError naming every out-of-range option of a ``CommonConfig``."""
    errors = []
    for name, (low, meaning) in _COMMON_MIN.items():
        value = getattr(common, name)
        if value is not None:
            errors.append(_number_error(name, value, low, False, meaning))
    if common.tol is not None:
        errors.append(_number_error("tol", common.tol, 0.0, False, "a label-change fraction"))
        if common.tol > 1:
            errors.append(f"--tol is a fraction of the samples, at most 1; got {common.tol}")
    if common.time_limit is not None:
        errors.append(_number_error("time_limit", common.time_limit, 0.0, True, "seconds"))
    if common.image_size is not None and min(common.image_size) < 1:
        errors.append(f"--image-size takes two sizes >= 1, got {list(common.image_size)}")
    if common.verbose not in (0, 1, 2):
        errors.append(f"--verbose must be 0, 1 or 2, got {common.verbose}")
    _raise_all(errors)


def _is_int_tuple(tp) -> bool:
    return typing.get_origin(tp) is tuple and typing.get_args(tp)[:1] == (int,)


def check_method_config(cfg) -> None:
    """Raises ValueError naming every out-of-range field of a method config dataclass."""
    cls = type(cfg)
    hints = typing.get_type_hints(cls)
    positive = set(getattr(cls, "POSITIVE", ()))
    zero_means = set(getattr(cls, "ZERO_MEANS", ()))
    fractions = set(getattr(cls, "FRACTIONS", ()))
    errors = []
    for f in dataclasses.fields(cfg):
        value, tp = getattr(cfg, f.name), hints[f.name]
        if value is None or isinstance(value, (bool, str)):
            continue
        if isinstance(value, tuple):
            if _is_int_tuple(tp) and (not value or min(value) < 1):
                errors.append(f"{flag(f.name)} takes widths >= 1, got {list(value)}")
            continue
        if int in typing.get_args(tp) or tp is int:
            low = 0 if f.name in zero_means else 1
            errors.append(_number_error(f.name, value, low, False, "a count"))
        else:
            strict = f.name in positive
            errors.append(_number_error(f.name, value, 0.0, strict, "a rate or weight"))
            if f.name in fractions and value >= 1:
                errors.append(f"{flag(f.name)} must be < 1, got {value}")
    _raise_all(errors)


def _raise_all(errors: list[str | None]) -> None:
    errors = [e for e in errors if e]
    if errors:
        raise ValueError("; ".join(errors))


def check_options(common, cfg) -> None:
    """Every range rule for one run's options (``CommonConfig`` and the method config)."""
    check_common(common)
    check_method_config(cfg)


__all__ = ["check_common", "check_method_config", "check_options", "flag"]
