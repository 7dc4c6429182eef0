"""Replays the label-free drift guard on every committed run that has a refresh history.

For each DEC-family run in ``benchmarks/results/`` (DFVC never uses the guard), it finds the
first refresh at which ``training.drift_guard.judge`` would have stopped, and compares the ACC of
the state the guard would have kept (the current refresh on a plateau, the one before on a flip)
with the final ACC the run reported and with its best ACC (diagnosis only: the guard never sees
labels). Runs that had the guard on and were stopped by it are marked "live": their reported
result is the guard's, and a flip's discarded refresh is shown with its ACC. "Too early" marks
runs where the guard would have ended more than half a point below the reported final ACC.
Writes ``results/diagnostics/drift_replay.json`` and prints a Markdown table for RESULTS.md.

    python benchmarks/drift_replay.py [--markdown]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
TOO_EARLY = 0.005  # ACC below the reported final by more than this


def replay_run(path: Path, rule) -> dict | None:
    """The guard's replay on one results JSON; None for runs without a labelled history."""
    from tfdeepclust.training.drift_guard import replay

    run = json.loads(path.read_text())
    history = run.get("history") if isinstance(run, dict) else None
    if not history or history[0].get("acc") is None or run.get("method") == "dfvc":
        return None
    final = run["metrics"]["acc"]
    best = max(history, key=lambda h: h["acc"])
    row = {
        "run": path.stem,
        "final_acc": final,
        "final_iteration": run["convergence"]["n_iter"],
        "best_acc": best["acc"],
        "best_iteration": best["iteration"],
    }
    live = run["convergence"].get("drift_guard")
    if live:
        # The guard ran with the run and its kept state is the reported result. The refresh
        # that stopped a flip or a rise is not in the history (its state was discarded): its
        # ACC is in the evidence.
        evidence = live.get("evidence", {})
        flip = evidence.get("flip_refresh") or evidence.get("rise_refresh") or {}
        return {
            **row,
            "live": True,
            "guard_rule": live["rule"],
            "guard_iteration": live["iteration"],
            "kept_iteration": live.get("restore_iteration", live["iteration"]),
            "guard_acc": final,
            "change": 0.0,
            "too_early": False,
            "discarded_acc": flip.get("acc"),
        }
    decision = replay(history, rule)
    kept = history[decision["kept_index"]] if decision else history[-1]
    guard_acc = kept["acc"] if decision else final
    return {
        **row,
        "live": False,
        "guard_rule": decision["rule"] if decision else None,
        "guard_iteration": decision["iteration"] if decision else None,
        "kept_iteration": kept["iteration"] if decision else None,
        "guard_acc": guard_acc,
        "change": guard_acc - final,
        "too_early": guard_acc < final - TOO_EARLY,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--markdown", action="store_true", help="print the Markdown table")
    args = p.parse_args()

    from tfdeepclust.atomic import atomic_write_json
    from tfdeepclust.results import git_sha, package_versions
    from tfdeepclust.training.drift_guard import DriftRule

    rule = DriftRule()
    rows = [r for f in sorted(RESULTS.glob("*.json")) if (r := replay_run(f, rule))]
    stopped = [r for r in rows if r["guard_rule"]]
    summary = {
        "runs": len(rows),
        "stopped": len(stopped),
        "stopped_live": sum(r["live"] for r in stopped),
        "improved": sum(r["change"] > TOO_EARLY for r in rows),
        "too_early": sum(r["too_early"] for r in rows),
        "mean_change": sum(r["change"] for r in rows) / max(len(rows), 1),
    }
    out = {
        "benchmark": {"name": "drift_replay", "command": "python benchmarks/drift_replay.py"},
        "method": "dec-family",
        "dataset": "all committed runs",
        "seed": None,
        "metrics": summary,
        "wall_time_s": None,
        "config": dataclasses.asdict(rule),
        "rows": rows,
        "versions": package_versions(),
        "git_sha": git_sha(),
    }
    atomic_write_json(RESULTS / "diagnostics" / "drift_replay.json", out, overwrite=True)
    print(json.dumps(summary))
    if args.markdown:
        print("| run | final ACC (iteration) | best ACC (iteration) | guard | kept ACC | change |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            guard = f"{r['guard_rule']} at {r['guard_iteration']}" if r["guard_rule"] else "—"
            if r["live"]:
                discarded = r["discarded_acc"]
                guard += " (live" + ("" if discarded is None else f"; {discarded:.3f} there") + ")"
            flag = " (too early)" if r["too_early"] else ""
            print(
                f"| {r['run']} | {r['final_acc']:.3f} ({r['final_iteration']}) | "
                f"{r['best_acc']:.3f} ({r['best_iteration']}) | {guard} | "
                f"{r['guard_acc']:.3f} | {r['change']:+.3f}{flag} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
