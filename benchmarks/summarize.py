"""Summarise benchmarks/results/*.json into the tables of benchmarks/RESULTS.md (printed)."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

# Paper numbers (METHODS.md §6): (ACC, NMI).
PAPER = {
    ("asc2d", "mnist"): (0.988, 0.973),
    ("asc2d", "mnist_test"): (0.980, 0.969),
    ("asc2d", "fashion_mnist"): (0.703, 0.716),
    ("asc2d", "usps"): (0.969, 0.986),
    ("asc2d-noD", "usps"): (0.951, 0.979),
    ("asc2d-noCSD", "usps"): (0.969, 0.984),
}


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
        "| method | data set | budget | seeds | ACC | NMI | ARI | iterations | wall time (s) "
        "| paper ACC / NMI |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (name, ds, budget), runs in sorted(groups.items()):
        m = [r["metrics"] for r in runs]
        acc = [x["acc"] for x in m if x["acc"] is not None]
        nmi = [x["nmi"] for x in m if x["nmi"] is not None]
        ari = [x["ari"] for x in m if x["ari"] is not None]
        iters = [r["convergence"].get("n_iter") for r in runs]
        wall = [r["wall_time_s"]["total"] for r in runs]
        paper = PAPER.get((name, ds))
        print(
            f"| {name} | {ds} | {budget} | {','.join(str(r['seed']) for r in runs)} | "
            f"{_fmt(acc)} | {_fmt(nmi)} | {_fmt(ari)} | {', '.join(map(str, iters))} | "
            f"{statistics.mean(wall):.0f} | "
            f"{'–' if paper is None else f'{paper[0]:.3f} / {paper[1]:.3f}'} |"
        )


if __name__ == "__main__":
    main()
