"""Summarise benchmarks/results/*.json into the tables of benchmarks/RESULTS.md (printed)."""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(RESULTS.parents[1]))  # tfdeepclust, for the profiles of older runs
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the recipes import Keras

# Paper numbers (docs/methods.md §6): (ACC, NMI), keyed by (variant, dataset); variant from
# _variant.
PAPER = {
    # ASC2D Table 3; ablations Tables 5-6 (USPS only)
    ("asc2d", "mnist"): (0.988, 0.973),
    ("asc2d", "mnist_test"): (0.980, 0.969),
    ("asc2d", "fashion_mnist"): (0.703, 0.716),
    ("asc2d", "usps"): (0.969, 0.986),
    ("asc2d-noD", "usps"): (0.951, 0.979),
    ("asc2d-noCSD", "usps"): (0.969, 0.984),
    # ADEC Table 1
    ("adec", "mnist"): (0.986, 0.961),
    ("adec", "mnist_test"): (0.985, 0.957),
    ("adec", "usps"): (0.981, 0.948),
    ("adec", "fashion_mnist"): (0.586, 0.662),
    ("adec", "reuters10k"): (0.821, 0.605),
    ("adec", "mice_protein"): (0.500, 0.604),
    # ADEC Table 2: the DEC* / IDEC* baselines (train_adec.py --mode dec | idec)
    ("dec*", "mnist"): (0.971, 0.929),
    ("dec*", "mnist_test"): (0.968, 0.920),
    ("dec*", "usps"): (0.963, 0.910),
    ("dec*", "fashion_mnist"): (0.575, 0.589),
    ("dec*", "reuters10k"): (0.814, 0.598),
    ("dec*", "mice_protein"): (0.267, 0.158),
    ("idec*", "mnist"): (0.982, 0.952),
    ("idec*", "mnist_test"): (0.978, 0.944),
    ("idec*", "usps"): (0.980, 0.946),
    ("idec*", "fashion_mnist"): (0.575, 0.631),
    ("idec*", "reuters10k"): (0.790, 0.550),
    ("idec*", "mice_protein"): (0.188, 0.033),
    # DFVC Table III
    ("dfvc", "mnist"): (0.995, 0.987),
}


def _variant(r: dict) -> str:
    """The paper row a run reproduces, from its recorded config (not from its tag)."""
    cfg = r.get("config") or {}
    method = r["method"]
    if method == "adec":
        mode = cfg.get("adec.mode", "adec")
        return {"dec": "dec*", "idec": "idec*"}.get(mode, "adec")
    if method == "asc2d":
        if cfg.get("asc2d.use_discriminator") is False:
            return "asc2d-noD"
        if cfg.get("asc2d.lambda3") == 0:
            return "asc2d-noCSD"
    return method


def _profile(runs: list[dict]) -> str:
    """paper-faithful / practical (``results.paper_profile``) of a group of runs."""
    labels = {_run_profile(r)["label"] for r in runs}
    return labels.pop() if len(labels) == 1 else "mixed"


def _run_profile(r: dict) -> dict:
    """The run's recorded profile; for runs older than the label, derived from its recorded
    config (the cluster count is not checked: it needs the labels)."""
    if "profile" in r:
        return r["profile"]
    import dataclasses
    from types import SimpleNamespace

    import numpy as np

    from tfdeepclust.api import get_recipe
    from tfdeepclust.config import CommonConfig
    from tfdeepclust.results import paper_profile

    recipe = get_recipe(r["method"])
    cfg = r["config"]
    names = {f.name for f in dataclasses.fields(CommonConfig)}
    common = CommonConfig(**{k: v for k, v in cfg.items() if k in names})
    prefix = f"{r['method']}."
    fields = {f.name for f in dataclasses.fields(recipe.config_cls)}
    # A field the record lacks is newer than the run, which used the paper's behaviour.
    method_cfg = recipe.config_cls(
        **{
            **getattr(recipe.config_cls, "PAPER_VALUES", {}),
            **{k[len(prefix) :]: v for k, v in cfg.items() if k[len(prefix) :] in fields},
        }
    )
    tabular = r["dataset"] in ("mice_protein", "reuters10k")
    data = SimpleNamespace(
        name=r["dataset"],
        n_samples=r["n_samples"],
        n_clusters=r["n_clusters"],
        y=None,
        is_image=not tabular,
        x=np.zeros((1, 1, 1, 3 if r["dataset"].startswith(("cifar", "stl")) else 1)),
    )
    return paper_profile(recipe, common, method_cfg, data, r.get("convergence"))


def _fmt(values: list[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main() -> None:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for path in sorted(RESULTS.glob("*.json")):
        r = json.loads(path.read_text())
        if "convergence" not in r:  # other benchmarks (throughput, pretraining budget, ...)
            continue
        tag = (r.get("benchmark") or {}).get("tag")
        name = r["method"] + (f"-{tag}" if tag else "")
        groups[(name, r["dataset"], r.get("budget"))].append(r)
    print(
        "| method | data set | budget | profile | seeds | ACC | NMI | ARI | iterations "
        "| wall time (s) | paper ACC / NMI |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (name, ds, budget), runs in sorted(groups.items()):
        m = [r["metrics"] for r in runs]
        acc = [x["acc"] for x in m if x["acc"] is not None]
        nmi = [x["nmi"] for x in m if x["nmi"] is not None]
        ari = [x["ari"] for x in m if x["ari"] is not None]
        # A run that --time-limit ended is unfinished: say so beside its iterations.
        iters = [
            f"{r['convergence'].get('n_iter')}"
            + (" (time limit)" if r["convergence"].get("stop_reason") == "time_limit" else "")
            for r in runs
        ]
        wall = [r["wall_time_s"]["total"] for r in runs]
        paper = PAPER.get((_variant(runs[0]), ds))
        print(
            f"| {name} | {ds} | {budget} | {_profile(runs)} | "
            f"{','.join(str(r['seed']) for r in runs)} | "
            f"{_fmt(acc)} | {_fmt(nmi)} | {_fmt(ari)} | {', '.join(map(str, iters))} | "
            f"{statistics.mean(wall):.0f} | "
            f"{'–' if paper is None else f'{paper[0]:.3f} / {paper[1]:.3f}'} |"
        )


if __name__ == "__main__":
    main()
