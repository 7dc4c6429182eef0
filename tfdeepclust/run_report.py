"""The report of one run: the results schema, the files written beside it, the summary.

``results.json`` is what every consumer reads (benchmarks, summaries, the profile); its keys are
assembled in one place, :func:`assemble_results`.
"""

from __future__ import annotations

from pathlib import Path

from tfdeepclust.atomic import atomic_write_text
from tfdeepclust.config import TEMPORARY_OUTPUTS, CommonConfig, config_dict
from tfdeepclust.results import describe_profile, machine_info, package_versions, paper_profile


def next_results_path(out_dir: Path, overwrite: bool) -> Path:
    """``results.json``, or the next free ``results_<n>.json`` (results are never overwritten
    unless asked)."""
    path = out_dir / "results.json"
    n = 1
    while path.exists() and not overwrite:
        path = out_dir / f"results_{n}.json"
        n += 1
    return path


def assemble_results(
    recipe,
    common: CommonConfig,
    cfg,
    data,
    *,
    replicas: int,
    metrics: dict,
    label_free: dict,
    init: dict,
    pre: dict,
    clus: dict,
    resumed_from: int | None,
    wall_time: dict,
    sha: str | None,
    paths: dict,
    pictures: dict,
) -> dict:
    """The results dict of a run, as written to ``results.json``."""
    return {
        "method": recipe.name,
        "dataset": data.name,
        "seed": common.seed,
        "n_samples": data.n_samples,
        "n_clusters": data.n_clusters,
        "metrics": metrics,
        "label_free": label_free,
        "kmeans_init": init,
        "convergence": {
            **{k: clus[k] for k in ("converged", "stop_reason", "n_iter") if k in clus},
            # what the label-free drift guard decided, on which signals (None: it did not stop)
            "drift_guard": clus.get("drift_guard"),
            "resumed_from_iteration": resumed_from,
        },
        "wall_time_s": wall_time,
        "budget": common.budget,
        # "paper-faithful" or "practical" with every setting that differs from the paper recipe
        "profile": paper_profile(recipe, common, cfg, data, clus),
        "distribution": {
            "strategy": common.strategy,
            "replicas": replicas,
            "global_batch_size": common.batch_size,
        },
        "config": {
            **config_dict(common),
            **{f"{recipe.name}.{k}": v for k, v in config_dict(cfg).items()},
        },
        "pretrain": pre,
        "history": clus.get("history", []),
        "diagnostics": clus.get("diagnostics", []),
        **({"disc_warmup": clus["disc_warmup"]} if "disc_warmup" in clus else {}),
        "epoch_losses": clus.get("epoch_losses", {}),
        "data_info": data.info,
        "versions": package_versions(),
        "machine": machine_info(),
        "git_sha": sha,
        "data_sha256": data.sha256,
        **paths,
        "pictures": pictures,
    }


def write_outputs_and_pictures(
    out_dir: Path, results_path: Path, common: CommonConfig, data, final: dict, title: str
) -> tuple[Path, dict[str, str]]:
    """Saves the per-sample outputs beside the results (``outputs[_n].npz``) and, unless
    ``--no-pictures``, draws the run's pictures from them."""
    from tfdeepclust import pictures

    suffix = results_path.stem.removeprefix("results")  # "" or "_<n>", as results_<n>.json
    outputs_path = pictures.save_outputs(
        out_dir / f"outputs{suffix}.npz",
        final["labels"],
        final.get("probabilities"),
        final.get("embedding"),
    )
    if not common.pictures:
        return outputs_path, {}
    folder = out_dir if not suffix else out_dir / f"pictures{suffix}"
    drawn = pictures.draw_all(
        folder,
        data.x,
        final["labels"],
        data.n_clusters,
        final.get("probabilities"),
        final.get("embedding"),
        data.y,
        seed=common.seed,
        title=f"{title} (seed {common.seed})",
    )
    if drawn:
        print(f"[pictures] {', '.join(sorted(drawn.values()))}", flush=True)
    return outputs_path, drawn


def write_labels(path: Path, labels, y) -> Path:
    """Writes ``sample_index,cluster[,label]`` rows (canonical sample order) atomically."""
    header = "sample_index,cluster" + (",label" if y is not None else "")
    rows = [f"{i},{c}" + (f",{y[i]}" if y is not None else "") for i, c in enumerate(labels)]
    return atomic_write_text(path, "\n".join([header, *rows]) + "\n")


def method_title(method: str, mode: str | None = None) -> str:
    """The method as run: its name, and its mode where that is another method (ADEC's DEC*)."""
    return method if mode in (None, method) else f"{method} (mode {mode})"


def run_title(r: dict) -> str:
    """:func:`method_title` of a results dict."""
    return method_title(r["method"], (r.get("config") or {}).get(f"{r['method']}.mode"))


def print_summary(r: dict) -> None:
    m = r["metrics"]
    lf = r["label_free"]
    print("=" * 72)
    print(
        f"{run_title(r)} on {r['dataset']} (seed {r['seed']}, {r['n_samples']} samples, "
        f"K={r['n_clusters']}): stop={r['convergence'].get('stop_reason')} after "
        f"{r['convergence'].get('n_iter')} iterations"
    )
    if m["acc"] is not None:
        print(
            f"ACC {m['acc']:.4f}  NMI {m['nmi']:.4f} (geometric {m['nmi_geometric']:.4f})  "
            f"ARI {m['ari']:.4f}"
        )
    else:
        print("no labels: ACC/NMI/ARI not computed")
    if r["convergence"].get("stop_reason") == "time_limit":
        print(
            f"STOPPED BY THE TIME LIMIT ({r['config'].get('time_limit'):.0f} s): these are the "
            "results so far. Rerun the same command to continue from the checkpoint (the "
            "limit counts again from the rerun's start)."
        )
    elif r["convergence"].get("stop_reason") == "collapsed":
        print(
            "WARNING: training stopped because one cluster held >= 90 % of the samples at "
            f"{r['config'].get('collapse_patience')} target refreshes in a row. Try a lower "
            "clustering learning rate or another seed; --collapse-patience 0 trains on."
        )
    elif r["convergence"].get("stop_reason") in ("plateau", "drift"):
        g = r["convergence"]["drift_guard"]
        what = (
            f"a label flip at iteration {g['iteration']} ({g['delta_label']:.1%} of the labels in "
            f"one interval); the state of iteration {g.get('restored_iteration')} was restored"
            if g["rule"] == "flip"
            else f"the label change stopped falling (iteration {g['iteration']})"
        )
        print(f"drift guard: stopped on {what}. --drift-guard off trains on, as the papers do.")
    if lf.get("degenerate"):
        print(f"WARNING: degenerate clustering ({lf['degenerate']})")
    sil = lf["silhouette"]
    print(
        f"cluster sizes {lf['cluster_sizes']}  size entropy {lf['size_entropy']:.3f}  "
        f"silhouette {'n/a' if sil is None else f'{sil:.3f}'}"
    )
    print(f"profile: {describe_profile(r['profile'])}")
    wt = r["wall_time_s"]
    print(
        f"wall time: pretrain {wt['pretrain']:.1f} s, cluster {wt['cluster']:.1f} s, "
        f"total {wt['total']:.1f} s"
    )
    pre = r.get("pretrain") or {}
    if pre.get("processes", 1) > 1:
        print(
            f"  (pretraining resumed at epoch {pre['resumed_at_epoch']}: "
            f"{pre['wall_time_total_s']:.1f} s over {pre['processes']} processes)"
        )
    if r["export_path"]:
        print(f"exported SavedModel: {r['export_path']}")
    if (r.get("config") or {}).get("extra", {}).get(TEMPORARY_OUTPUTS):
        print("files: none kept (no output_dir: the run used a temporary folder)")
    else:
        print(f"results: {r['results_path']}  labels: {r['labels_path']}")


__all__ = [
    "assemble_results",
    "next_results_path",
    "method_title",
    "print_summary",
    "run_title",
    "write_labels",
    "write_outputs_and_pictures",
]
