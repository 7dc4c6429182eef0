"""The results JSON every run writes: provenance (versions, git SHA, data checksum) + metrics."""

from __future__ import annotations

import dataclasses
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from tfdeepclust.api import get_recipe
from tfdeepclust.config import CommonConfig, config_dict
from tfdeepclust.run_spec import resolve_budget, resolve_method_config


def git_sha(cwd: str | os.PathLike | None = None) -> str | None:
    """The commit of the working tree (``+dirty`` when it has uncommitted changes), or None."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions() -> dict[str, str | None]:
    """Versions of Python and the libraries that determine results."""
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for pkg in (
        "tensorflow",
        "keras",
        "tensorflow-datasets",
        "numpy",
        "scipy",
        "scikit-learn",
        "keras-tuner",
        "tfdeepclust",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def machine_info() -> dict:
    """CPU/OS facts for reading wall times."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
    }


# CommonConfig fields that shape a run's result (the rest are paths, seeds, verbosity, devices).
RECIPE_COMMON_FIELDS = (
    "batch_size",
    "pretrain_epochs",
    "maxiter",
    "update_interval",
    "tol",
    "kmeans_n_init",
    "subset",
    "row_norm",
    "image_size",
)


def paper_profile(recipe, common, cfg, data, convergence: dict | None = None) -> dict:
    """Labels a run "paper-faithful" or "practical", listing every setting that differs from
    the paper recipe: the ``paper`` budget and the method's reading of the paper (its defaults,
    with the config's ``PAPER_VALUES`` where the default recipe departs from the text).

    ``maxiter`` does not count when the run stopped on tol before either cap, since the cap did
    not bind; the collapse stop and the time limit count only when they ended the run. Fields a
    config lists in ``OPERATIONAL_FIELDS`` (diagnostics, checkpoint cadence) do not change the
    method and are skipped.

    Args:
        recipe: The method's recipe (its ``budgets``, ``config_cls``, ``resolve_config``).
        common, cfg: The run's resolved configurations.
        data: The loaded data set (``n_samples``, ``n_clusters``, ``y``).
        convergence: ``stop_reason`` and ``n_iter`` of the clustering phase, when known.

    Returns:
        ``{"label": "paper-faithful" | "practical", "deviations": {field: {"paper", "used"}}}``
        and ``pretrained_from`` when the weights came from a ``--pretrained`` file (whose recipe
        is what the run's pretraining options say; it cannot be verified from here).
    """

    ref_common = CommonConfig(dataset=common.dataset, budget="paper")
    ref_common = resolve_budget(recipe, ref_common, data.n_samples)
    # The paper's text: the config defaults, except where a method's default recipe departs
    # from it on purpose (``PAPER_VALUES``, e.g. ASC2D's augmented pretraining).
    paper_values = getattr(recipe.config_cls, "PAPER_VALUES", {})
    ref_cfg = recipe.config_cls(**paper_values)
    ref_cfg = resolve_method_config(recipe, ref_cfg, ref_common, data)

    deviations: dict[str, dict] = {}
    for name in RECIPE_COMMON_FIELDS:
        paper, used = getattr(ref_common, name), getattr(common, name)
        if isinstance(used, tuple):
            used = list(used)
        if paper != used:
            deviations[name] = {"paper": paper, "used": used}
    conv = convergence or {}
    cap = min(ref_common.maxiter, common.maxiter)
    if "maxiter" in deviations and conv.get("stop_reason") == "tol" and conv["n_iter"] < cap:
        del deviations["maxiter"]  # the cap did not bind
    if conv.get("stop_reason") == "collapsed":  # the papers train on; our stop bound
        deviations["collapse_patience"] = {"paper": 0, "used": common.collapse_patience}
    if conv.get("stop_reason") in ("plateau", "drift"):  # the papers train on to tol or cap
        deviations["drift_guard"] = {"paper": False, "used": True}
    if conv.get("stop_reason") == "time_limit":  # ended before the recipe's own stops
        deviations["time_limit"] = {"paper": None, "used": common.time_limit}
    if data.y is not None and data.n_clusters != len(np.unique(data.y)):
        deviations["n_clusters"] = {"paper": int(len(np.unique(data.y))), "used": data.n_clusters}
    skip = set(getattr(recipe.config_cls, "OPERATIONAL_FIELDS", ()))
    paper_cfg, used_cfg = config_dict(ref_cfg), config_dict(cfg)
    for name, used in used_cfg.items():
        if name not in skip and paper_cfg.get(name) != used:
            deviations[name] = {"paper": paper_cfg.get(name), "used": used}
    out = {"label": "practical" if deviations else "paper-faithful", "deviations": deviations}
    if common.pretrained:
        out["pretrained_from"] = str(common.pretrained)
    return out


def configs_from_results(results: dict):
    """``(CommonConfig, method config)`` of a finished run, from its results dict (what
    ``results.json`` records under ``config``), to rebuild its model or reload its data."""

    def tuples(d: dict) -> dict:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}

    config, prefix = results["config"], f"{results['method']}."
    names = {f.name for f in dataclasses.fields(CommonConfig)}
    common = CommonConfig(**tuples({k: v for k, v in config.items() if k in names}))
    cfg = get_recipe(results["method"]).config_cls(
        **tuples({k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)})
    )
    return common, cfg


def describe_profile(profile: dict) -> str:
    """One line for the run summary: the label and each deviation as ``name paper→used``."""
    devs = profile.get("deviations") or {}
    if not devs:
        return profile["label"]
    parts = [f"{k} {v['paper']}→{v['used']}" for k, v in devs.items()]
    return f"{profile['label']} ({', '.join(parts)})"


def summary_record(
    method: str, dataset: str, seed, config: dict, metrics: dict, wall_time_s
) -> dict:
    """The keys every results JSON carries, for a file derived from runs (a choice, a summary):
    what it is about, the figures it reports, and the code and packages that made it."""
    return {
        "method": method,
        "dataset": dataset,
        "seed": seed,
        "config": config,
        "metrics": metrics,
        "wall_time_s": wall_time_s,
        "git_sha": git_sha(),
        "versions": package_versions(),
    }
