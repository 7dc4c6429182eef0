"""Search spaces: which hyperparameters of each method a sweep may tune, and their ranges.

Every range is documented with its source. A parameter is either a method hyperparameter
(a field of the method's config dataclass) or a common option (``update_interval``, and
``n_clusters`` for a sweep over the number of clusters); the tuner
declares them as KerasTuner hyperparameters and :func:`apply` writes a trial's values back into
the two configs, so a trial is an ordinary run with a few fields changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tfdeepclust.config import CommonConfig


@dataclass(frozen=True)
class Param:
    """One tunable hyperparameter.

    Attributes:
        name: Field name in the method config (or in CommonConfig when ``common``).
        kind: ``"float"`` or ``"int"``.
        low, high: Inclusive range for the random / Bayesian / Hyperband tuners.
        log: Log-uniform sampling (for weights spanning decades).
        grid: The values GridSearch enumerates (KerasTuner cannot enumerate a continuous range).
        common: The field lives in CommonConfig, not in the method config.
        source: Where the range comes from.
    """

    name: str
    kind: str
    low: float
    high: float
    log: bool
    grid: tuple
    common: bool = False
    source: str = ""

    def declare(self, hp, grid: bool):
        """Declares this parameter on a ``keras_tuner.HyperParameters``; returns its value."""
        if grid:
            return hp.Choice(self.name, list(self.grid), ordered=True)
        sampling = "log" if self.log else "linear"
        if self.kind == "int":
            return hp.Int(self.name, int(self.low), int(self.high), sampling=sampling)
        return hp.Float(self.name, float(self.low), float(self.high), sampling=sampling)


SEARCH_SPACES: dict[str, tuple[Param, ...]] = {
    "asc2d": (
        Param(
            "lambda1",
            "float",
            0.0,
            1.0,
            False,
            (0.0, 0.25, 0.5, 0.75, 1.0),
            source="ASC2D paper §4.3.1, Fig. 4: λ1 ∈ [0, 1]",
        ),
        Param(
            "lambda2",
            "float",
            1e-7,
            5e-2,
            True,
            (1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 5e-3, 5e-2),
            source="ASC2D paper §4.3.1, Fig. 5: λ2 ∈ [1e-7, 5e-2]",
        ),
        Param(
            "lambda3",
            "float",
            1e-7,
            1e-3,
            True,
            (1e-7, 1e-6, 1e-5, 1e-4, 1e-3),
            source="[CHOICE] two decades either side of the paper's 1e-5 (Table 2)",
        ),
    ),
    "adec": (
        Param(
            "n_aux",
            "int",
            1,
            10,
            False,
            (1, 5, 10),
            source="docs/methods.md §3.3: auxiliary decoder steps, sweep {1, 5, 10}",
        ),
        Param(
            "update_interval",
            "int",
            10,
            300,
            True,
            (10, 30, 100, 300),
            common=True,
            source="[CHOICE] around DEC's T = 30 / 140",
        ),
        Param(
            "lr_cluster",
            "float",
            1e-4,
            1e-1,
            True,
            (1e-4, 1e-3, 1e-2, 1e-1),
            source="[CHOICE] around DynAE's 1e-3 and DEC-keras' 1e-2 (SGD, momentum 0.9)",
        ),
    ),
    "dfvc": (
        Param(
            "alpha",
            "float",
            1.0,
            4.0,
            False,
            (1.0, 2.0, 3.0, 4.0),
            source="DFVC Table I uses α ∈ {2, 3}; range widened by one either side",
        ),
        Param(
            "beta",
            "float",
            0.05,
            1.0,
            True,
            (0.1, 0.2, 0.5, 1.0),
            source="DFVC Table I uses β ∈ [0.2, 0.5]",
        ),
        Param(
            "gamma",
            "float",
            0.01,
            0.5,
            True,
            (0.02, 0.1, 0.2, 0.5),
            source="DFVC Table I uses γ ∈ [0.02, 0.2]",
        ),
    ),
}


def cluster_count_param(k: int) -> Param:
    """``n_clusters`` from 2 to twice the expected K, for choosing K without labels.

    Args:
        k: The expected number of clusters: the number of label classes or ``--n-clusters``.
    """
    high = max(3, 2 * int(k))
    # Every K up to 20; beyond, 12 roughly log-spaced values (a grid of hundreds of trials
    # would never finish).
    grid = (
        tuple(range(2, high + 1))
        if high <= 20
        else tuple(sorted({int(round(2 * (high / 2) ** (i / 11))) for i in range(12)}))
    )
    return Param(
        "n_clusters",
        "int",
        2,
        high,
        False,
        grid,
        common=True,
        source="[CHOICE] 2 to 2K around the expected K "
        "(docs/platform.md §7.5: a label-free K sweep)",
    )


def search_space(
    method: str, names: list[str] | None = None, n_clusters: int | None = None
) -> tuple[Param, ...]:
    """The method's tunable parameters, optionally restricted to ``names`` (in that order).

    ``n_clusters`` is tunable for every method when named (:func:`cluster_count_param`, around
    the expected K given here); it is never part of the default space.

    Raises:
        ValueError: Unknown method or parameter name (the message lists the valid ones).
    """
    if method not in SEARCH_SPACES:
        raise ValueError(f"no search space for {method!r}; known: {sorted(SEARCH_SPACES)}")
    space = {p.name: p for p in SEARCH_SPACES[method]}
    if not names:
        return tuple(space.values())
    space["n_clusters"] = cluster_count_param(n_clusters or 10)  # any K validates the name
    unknown = [n for n in names if n not in space]
    if unknown:
        raise ValueError(
            f"--tune-params {unknown} not tunable for {method}; choose from {sorted(space)}"
        )
    return tuple(space[n] for n in names)


def apply(values: dict, params: tuple[Param, ...], cfg, common: CommonConfig):
    """Returns ``(cfg, common)`` with the trial's ``values`` written into their fields."""
    method_vals = {p.name: _cast(p, values[p.name]) for p in params if not p.common}
    common_vals = {p.name: _cast(p, values[p.name]) for p in params if p.common}
    return dataclasses.replace(cfg, **method_vals), dataclasses.replace(common, **common_vals)


def _cast(p: Param, v):
    return int(v) if p.kind == "int" else float(v)


__all__ = ["SEARCH_SPACES", "Param", "apply", "cluster_count_param", "search_space"]
