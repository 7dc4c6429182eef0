"""Print the clustering phase of a run, refresh by refresh, from its results JSON.

The results tables report the final iteration (docs/platform.md §7.1: never the best epoch by
a label metric). This shows how a run got there: the label change against tol, the largest and
smallest cluster, and ACC / NMI / ARI where labels exist, so drift after an early peak (ADEC's
DEC* on the 70k sets) or a late collapse is visible. The best-by-ACC row is marked for
diagnosis only.

    python benchmarks/trajectory.py benchmarks/results/asc2d_usps_seed0.json
    python benchmarks/trajectory.py results/x.json --every 1400 --markdown
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COLUMNS = (
    ("iteration", "iteration", "{:d}"),
    ("delta_label", "label change", "{:.2%}"),
    ("largest_cluster_frac", "largest", "{:.1%}"),
    ("smallest_cluster_frac", "smallest", "{:.2%}"),
    ("acc", "ACC", "{:.3f}"),
    ("nmi", "NMI", "{:.3f}"),
    ("ari", "ARI", "{:.3f}"),
)


def select_rows(history: list[dict], every: int | None, at: list[int] | None) -> list[dict]:
    """The refreshes to show: all, every ``every`` iterations, or those nearest to ``at``.

    The first, the last and the best-by-ACC refresh are always kept.
    """
    if not history:
        return []
    keep = {0, len(history) - 1}
    if "acc" in history[0]:
        keep.add(max(range(len(history)), key=lambda i: history[i]["acc"]))
    if at:
        for target in at:
            keep.add(min(range(len(history)), key=lambda i: abs(history[i]["iteration"] - target)))
    elif every:
        keep |= {i for i, r in enumerate(history) if r["iteration"] % every == 0}
    else:
        keep = set(range(len(history)))
    return [history[i] for i in sorted(keep)]


def _cell(row: dict, key: str, fmt: str) -> str:
    value = row.get(key)
    return "—" if value is None else fmt.format(value)


def trajectory_table(
    run: dict, every: int | None = None, at: list[int] | None = None, markdown: bool = False
) -> str:
    """The run's refreshes as a text (or Markdown) table, plus a line on start, best and end.

    Args:
        run: A results JSON as a dict (``history`` holds one row per target refresh).
        every: Show only refreshes at multiples of this many iterations.
        at: Show the refreshes nearest to these iterations instead.
        markdown: Emit a Markdown table (for RESULTS.md).

    Returns:
        The table and a summary line; a one-line message when the run has no history.
    """
    history = run.get("history") or []
    name = f"{run.get('method')} {run.get('dataset')} seed {run.get('seed')}"
    if not history or "iteration" not in history[0]:
        return f"{name}: no refresh history in this results file"
    columns = [c for c in COLUMNS if any(c[0] in r for r in history)]
    rows = select_rows(history, every, at)
    best = max(history, key=lambda r: r.get("acc", float("-inf")))
    final = run.get("metrics") or {}
    conv = run.get("convergence") or {}
    # The reported end of the run: the metrics after the last step, which may lie past the last
    # refresh (e.g. at the maxiter cap).
    end = {
        "iteration": conv.get("n_iter", history[-1]["iteration"]),
        **{k: v for k, v in (run.get("label_free") or {}).items() if k.endswith("cluster_frac")},
        **final,
    }
    header = [title for _, title, _ in columns] + [""]
    body = []
    for i, r in enumerate(rows):
        mark = "best ACC (diagnosis only)" if "acc" in r and r is best else ""
        if i == 0:
            r = {**r, "delta_label": None}  # the first assignment has nothing to change from
        body.append([_cell(r, key, fmt) for key, _, fmt in columns] + [mark])
    body.append([_cell(end, key, fmt) for key, _, fmt in columns] + ["final (reported)"])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
    else:
        widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
        lines = [
            "  ".join(x.rjust(w) for x, w in zip(cells, widths, strict=True)).rstrip()
            for cells in [header, *body]
        ]
    summary = f"{name}: {len(history)} evaluations, stop {conv.get('stop_reason', '?')}"
    if "acc" in best and "acc" in final:
        summary += (
            f"; ACC start {history[0]['acc']:.3f}, best {best['acc']:.3f} at "
            f"{best['iteration']}, final {final['acc']:.3f} (reported)"
        )
    return "\n".join([summary, *lines])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="+", type=Path, help="results JSON files")
    p.add_argument("--every", type=int, help="only refreshes at multiples of N iterations")
    p.add_argument("--at", type=int, nargs="+", help="the refreshes nearest to these iterations")
    p.add_argument("--markdown", action="store_true", help="Markdown tables")
    args = p.parse_args(argv)
    for i, path in enumerate(args.results):
        try:
            run = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            sys.exit(f"{path}: cannot read a results JSON ({e}); pass a file from results/.")
        print(("\n" if i else "") + trajectory_table(run, args.every, args.at, args.markdown))


if __name__ == "__main__":
    main()
