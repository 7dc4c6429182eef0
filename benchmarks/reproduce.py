"""Run reproduction benchmarks: one training script, several seeds, results JSON into results/.

Each run is a separate ``train_<method>.py`` process (clean TF state, the same command a user
runs). Results land in ``benchmarks/results/<method>[-<tag>]_<dataset>_seed<k>.json``. Existing
files are skipped, so an interrupted sweep resumes where it stopped, except those of runs that
``--time-limit`` stopped: the rerun continues them. Such a stop ends the sweep (its time is up).
A results file that cannot be read is moved aside (``.unreadable``) and its run done again.
Summarise with ``python benchmarks/summarize.py``.

Example:
    python benchmarks/reproduce.py --method asc2d --dataset usps --seeds 0 1 2 -- --budget paper
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from tfdeepclust.durations import EXIT_TIME_LIMIT

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
UNREADABLE = "unreadable"  # _stop_reason of a results file that is not valid JSON


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", required=True, choices=("asc2d", "adec", "dfvc"))
    p.add_argument("--dataset", required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--tag", default="", help="variant name in the file name (e.g. noD)")
    p.add_argument(
        "train_args", nargs=argparse.REMAINDER, help="arguments after -- go to the training script"
    )
    args = p.parse_args()
    extra = [a for a in args.train_args if a != "--"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = args.method + (f"-{args.tag}" if args.tag else "")
    for seed in args.seeds:
        dest = RESULTS / f"{name}_{args.dataset}_seed{seed}.json"
        if dest.exists():
            reason = _stop_reason(dest)
            if reason == "time_limit":
                print(f"{dest.name} was stopped by its time limit: continuing it", flush=True)
            elif reason == UNREADABLE:
                aside = dest.with_name(dest.name + ".unreadable")
                dest.replace(aside)
                print(f"{dest.name} is not valid JSON: moved to {aside.name}, running it again")
            else:
                print(f"skip {dest.name}: exists")
                continue
        # Paths relative to the repository (the command runs there), so the command recorded in
        # the results JSON reruns from any checkout.
        out_dir = Path("runs") / "bench" / f"{name}_{args.dataset}_seed{seed}"
        if "--output-dir" in extra:  # the caller's folder wins (e.g. continuing another run's)
            out_dir = Path(extra[len(extra) - 1 - extra[::-1].index("--output-dir") + 1])
        cmd = [
            sys.executable,
            f"train_{args.method}.py",
            "--dataset",
            args.dataset,
            "--seed",
            str(seed),
            "--output-dir",
            str(out_dir),
            "--overwrite",
            "--no-export",
            *extra,
        ]
        print("$", " ".join(cmd), flush=True)
        started = time.time()
        rc = subprocess.run(cmd, cwd=ROOT).returncode
        results = ROOT / out_dir / "results.json"
        fresh = results.is_file() and results.stat().st_mtime >= started
        if rc == EXIT_TIME_LIMIT:
            # The run saved its state; the same command continues it. Results so far (when
            # the clustering phase had begun) are kept, marked by stop_reason "time_limit".
            print(
                "stopped by --time-limit: rerun this command to continue"
                + (f" (results so far in {dest.name})" if fresh else ""),
                flush=True,
            )
            if fresh:
                _keep(results, dest, args.tag, cmd)
            return rc
        if rc != 0:
            print(f"run failed with exit code {rc}", flush=True)
            return rc
        _keep(results, dest, args.tag, cmd)
    return 0


def _stop_reason(path: Path) -> str | None:
    """The run's ``convergence.stop_reason``, or ``UNREADABLE`` when the file is not a JSON
    object (e.g. hand-edited or a merge conflict left in it)."""
    try:
        result = json.loads(path.read_text())
    except ValueError:
        return UNREADABLE
    if not isinstance(result, dict):
        return UNREADABLE
    return (result.get("convergence") or {}).get("stop_reason")


def _keep(results: Path, dest: Path, tag: str, cmd: list[str]) -> None:
    """Copies a run's results JSON to ``dest`` (atomically), with the benchmark's command."""
    from tfdeepclust.atomic import atomic_write_json  # TF-free, unlike most of the package

    result = json.loads(results.read_text())
    result["benchmark"] = {"tag": tag or None, "command": cmd[1:]}
    atomic_write_json(dest, result)
    print(f"wrote {dest}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
