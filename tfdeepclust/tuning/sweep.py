"""A hyperparameter sweep from start to end: pretrain once, search, report, retrain the best.

    python train_asc2d.py --tune --tuner bayesian --max-trials 20 --tune-params lambda1 lambda2

Files (``<tune_dir>/<method>_<dataset>_seed<k>/``): KerasTuner's project (oracle, trials,
weights; a rerun of the same command resumes it), ``labels/<trial>.npy``, ``trials.json`` /
``trials.csv``, ``summary.json`` (best values, rank agreement of the label-free objective with
the oracle metrics, wall time), ``sensitivity.png`` and ``best/`` (the best trial retrained as
an ordinary run: results JSON, labels, SavedModel).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

TUNERS = ("random", "bayesian", "hyperband", "grid")


@dataclass
class TuneOptions:
    """Options of a sweep (``--tune`` and friends on every training script)."""

    tuner: str = "random"
    max_trials: int = 20
    objective: str = "silhouette"  # label-free default; oracle_acc / oracle_nmi / oracle_ari
    params: tuple[str, ...] = ()  # empty: the method's whole search space
    tune_dir: str = "runs/tune"
    max_epochs: int | None = None  # Hyperband: refresh intervals (default maxiter / T)
    hyperband_factor: int = 3
    retrain_best: bool = True
    max_consecutive_failed_trials: int = 3

    def validate(self, method: str) -> None:
        """Raises ValueError naming the bad option (before any data is loaded)."""
        from tfdeepclust.tuning.hypermodel import make_objective
        from tfdeepclust.tuning.space import search_space

        if self.tuner not in TUNERS:
            raise ValueError(f"--tuner must be one of {TUNERS}, got {self.tuner!r}")
        if self.max_trials < 1:
            raise ValueError(f"--max-trials must be >= 1, got {self.max_trials}")
        search_space(method, list(self.params))
        make_objective(self.objective)


def make_tuner(
    kind: str,
    hypermodel,
    objective,
    max_trials: int,
    seed: int,
    directory,
    project,
    max_epochs: int = 3,
    factor: int = 3,
    max_consecutive_failed_trials: int = 3,
):
    """A KerasTuner tuner of the named kind (``random``, ``bayesian``, ``hyperband``, ``grid``).

    ``overwrite=False`` always: an existing project is resumed, never deleted.
    """
    import keras_tuner as kt

    common = dict(
        objective=objective,
        seed=seed,
        directory=str(directory),
        project_name=project,
        overwrite=False,
        max_consecutive_failed_trials=max_consecutive_failed_trials,
    )
    if kind == "random":
        return kt.RandomSearch(hypermodel, max_trials=max_trials, **common)
    if kind == "bayesian":
        return kt.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
    if kind == "grid":
        return kt.GridSearch(hypermodel, max_trials=max_trials, **common)
    if kind == "hyperband":
        return kt.Hyperband(hypermodel, max_epochs=max_epochs, factor=factor, **common)
    raise ValueError(f"--tuner must be one of {TUNERS}, got {kind!r}")


def _check_project(project_dir: Path, fingerprint: dict, fresh: bool) -> None:
    """Refuses to resume a project made with other search settings (or moves it aside)."""
    from tfdeepclust.atomic import atomic_write_json

    marker = project_dir / "sweep_settings.json"
    if project_dir.exists() and fresh:
        aside = project_dir.with_name(f"{project_dir.name}.{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.move(str(project_dir), aside)
        print(f"[tune] --fresh: moved the previous sweep to {aside}", flush=True)
    if marker.is_file():
        old = json.loads(marker.read_text())
        if old != json.loads(json.dumps(fingerprint, default=str)):
            changed = sorted(
                k
                for k in set(old) | set(fingerprint)
                if old.get(k) != json.loads(json.dumps(fingerprint, default=str)).get(k)
            )
            raise FileExistsError(
                f"{project_dir} holds a sweep with other settings ({', '.join(changed)}). "
                "Use another --tune-dir, or --fresh to move it aside and start over."
            )
    elif project_dir.exists() and any(project_dir.iterdir()):
        raise FileExistsError(
            f"{project_dir} exists but is not a tfdeepclust sweep. Use another --tune-dir."
        )
    project_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(marker, fingerprint)


def _pretraining_depends_on_k(recipe, cfg, common, data) -> bool:
    """Whether the recipe's pretrained weights change with the number of clusters."""
    other = dataclasses.replace(data, n_clusters=data.n_clusters + 1)
    return recipe.pretrain_key(cfg, common, data) != recipe.pretrain_key(cfg, common, other)


def tune(recipe, common, cfg, opts: TuneOptions) -> dict:
    """Runs a sweep of ``recipe`` on ``common.dataset`` and returns its summary dict.

    The auto-encoder is pretrained once (or loaded from the pretraining cache) before the first
    trial; every trial starts from those weights, so a sweep costs clustering-phase time only.
    """
    from tfdeepclust.atomic import atomic_write_json, atomic_write_text
    from tfdeepclust.config import config_dict
    from tfdeepclust.results import git_sha, machine_info, package_versions
    from tfdeepclust.run_spec import resolve
    from tfdeepclust.runner import build_seeded, prepare_data, pretrain_cache_path, run
    from tfdeepclust.tuning.hypermodel import OBJECTIVES, ClusteringHyperModel, make_objective
    from tfdeepclust.tuning.report import (
        collect_trials,
        format_table,
        plot_sensitivity,
        rank_agreement,
        trials_csv,
    )
    from tfdeepclust.tuning.space import apply, search_space

    t_start = time.perf_counter()
    opts.validate(recipe.name)
    objective = make_objective(opts.objective)
    data, common = prepare_data(recipe, common)
    spec = resolve(recipe, common, cfg, data)
    common, cfg = spec.common, spec.config
    # A K sweep ranges around the data's K (its label classes, or --n-clusters).
    params = search_space(recipe.name, list(opts.params), n_clusters=data.n_clusters)
    if opts.objective.startswith("oracle_") and data.y is None:
        raise ValueError(f"objective {opts.objective} needs labels; {data.name} has none")
    if (
        "n_clusters" in opts.params
        and common.pretrained
        and _pretraining_depends_on_k(recipe, cfg, common, data)
    ):
        raise ValueError(
            f"--pretrained fixes the auto-encoder, and {recipe.name}'s auto-encoder depends on "
            "the number of clusters; drop --pretrained to tune n_clusters (each K is pretrained "
            "once and cached)."
        )

    project = f"{recipe.name}_{data.name}_seed{common.seed}"
    project_dir = Path(opts.tune_dir) / project
    _check_project(
        project_dir,
        {
            "tuner": opts.tuner,
            "objective": opts.objective,
            "params": [p.name for p in params],
            "data_sha256": data.sha256,
            "common": {
                k: v
                for k, v in config_dict(common).items()
                if k
                not in (
                    "verbose",
                    "overwrite",
                    "fresh",
                    "output_dir",
                    "export_dir",
                    "export",
                    "pictures",
                )
            },
            "cfg": config_dict(cfg),
            "max_epochs": opts.max_epochs,
        },
        common.fresh,
    )

    # Pretrain once; trials load these weights (methods without pretraining get None).
    t0 = time.perf_counter()
    cache = pretrain_cache_path(recipe, cfg, common, data)
    model = build_seeded(recipe, cfg, common, data)
    pre = recipe.pretrain(model, cfg, common, data, cache, [])
    pretrained = cache if cache is not None and Path(cache).is_file() else None
    pretrain_time = time.perf_counter() - t0
    del model

    hypermodel = ClusteringHyperModel(
        recipe,
        cfg,
        dataclasses.replace(common, verbose=0),
        data,
        params,
        grid=opts.tuner == "grid",
        pretrained=pretrained,
        labels_dir=project_dir / "labels",
    )
    max_epochs = opts.max_epochs or max(2, common.maxiter // common.update_interval)
    tuner = make_tuner(
        opts.tuner,
        hypermodel,
        objective,
        opts.max_trials,
        common.seed,
        opts.tune_dir,
        project,
        max_epochs=max_epochs,
        factor=opts.hyperband_factor,
        max_consecutive_failed_trials=opts.max_consecutive_failed_trials,
    )
    t0 = time.perf_counter()
    tuner.search(verbose=1 if common.verbose else 0)
    search_time = time.perf_counter() - t0

    rows = collect_trials(tuner, params)
    atomic_write_json(project_dir / "trials.json", rows)
    atomic_write_text(project_dir / "trials.csv", trials_csv(rows))
    print(format_table(rows, params, opts.objective), flush=True)
    agreement = rank_agreement(rows, opts.objective, OBJECTIVES[opts.objective])
    plot = plot_sensitivity(
        rows,
        params,
        opts.objective,
        project_dir / "sensitivity.png",
        f"{recipe.name} on {data.name}: {opts.tuner} search, {len(rows)} trials",
    )

    best_hp = tuner.get_best_hyperparameters(1)
    best_values = {p.name: best_hp[0].values[p.name] for p in params} if best_hp else None
    best_run = None
    if best_values is not None and opts.retrain_best:
        print(f"[tune] retraining the best trial {best_values} as an ordinary run", flush=True)
        best_cfg, best_common = apply(best_values, params, cfg, common)
        # The best trial's weights: the shared pretraining, or its K's own in a K sweep.
        best_pretrained = hypermodel.pretrained_for(*hypermodel.configs(best_hp[0]))
        best_common = dataclasses.replace(
            best_common,
            output_dir=str(project_dir / "best"),
            overwrite=True,
            pretrained=str(best_pretrained) if best_pretrained else None,
        )
        res = run(recipe, best_common, best_cfg)
        best_run = {
            "results_path": res["results_path"],
            "export_path": res["export_path"],
            "metrics": res["metrics"],
            "label_free": {k: res["label_free"].get(k) for k in ("silhouette", "size_entropy")},
        }

    summary = {
        "method": recipe.name,
        "dataset": data.name,
        "n_samples": data.n_samples,
        "seed": common.seed,
        "tuner": opts.tuner,
        "objective": {"name": opts.objective, "direction": OBJECTIVES[opts.objective]},
        "search_space": [dataclasses.asdict(p) for p in params],
        "budget": {
            "pretrain_epochs": common.pretrain_epochs,
            "maxiter_per_trial": common.maxiter,
            "update_interval": common.update_interval,
            "hyperband_max_epochs": max_epochs if opts.tuner == "hyperband" else None,
        },
        "n_trials": len(rows),
        "n_completed": sum(r["status"] == "COMPLETED" for r in rows),
        "n_failed": sum(r["status"] == "FAILED" for r in rows),
        "best_values": best_values,
        "best_trial": _best_row(rows, opts.objective, OBJECTIVES[opts.objective]),
        "rank_agreement_with_oracle": agreement,
        "best_run": best_run,
        "pretrain": {**pre, "wall_time_s": pretrain_time, "weights": str(pretrained)},
        "wall_time_s": {"search": search_time, "total": time.perf_counter() - t_start},
        "sensitivity_plot": None if plot is None else str(plot),
        "config": {
            **config_dict(common),
            **{f"{recipe.name}.{k}": v for k, v in config_dict(cfg).items()},
        },
        "versions": package_versions(),
        "machine": machine_info(),
        "git_sha": git_sha(),
        "data_sha256": data.sha256,
    }
    atomic_write_json(project_dir / "summary.json", summary)
    _print_agreement(agreement, opts.objective)
    print(f"[tune] trials: {project_dir / 'trials.csv'}  summary: {project_dir / 'summary.json'}")
    return summary


def _best_row(rows: list[dict], objective: str, direction: str) -> dict | None:
    done = [r for r in rows if r["status"] == "COMPLETED" and r.get(objective) is not None]
    if not done:
        return None
    pick = max if direction == "max" else min
    return pick(done, key=lambda r: r[objective])


def _print_agreement(agreement: dict, objective: str) -> None:
    for oracle, e in agreement.items():
        if e["spearman"] is not None:
            print(
                f"[tune] {objective} vs {oracle}: Spearman {e['spearman']:+.2f}, "
                f"Kendall {e['kendall']:+.2f} over {e['n_trials']} trials"
            )


__all__ = ["TUNERS", "TuneOptions", "make_tuner", "tune"]
