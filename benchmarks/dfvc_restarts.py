"""DFVC from the best of several starts, chosen without labels (issue #29).

DFVC's runs end in partitions of very different quality from one seed to the next (on
MNIST-test, 1,000 iterations end anywhere between 0.71 and 0.98), and the run's own categorical
MI between the two views, I(y, y′), ranks them: the higher it is at the end of an early epoch,
the better the final partition was in every committed diagnosis run. So, like k-means' n_init:

1. **Screen**: train every seed for ``--screen-iters`` iterations (a few epochs);
2. **Choose** the seed whose K-way head had the highest I(y, y′) in its last epoch (training
   batches; no labels — ACC is printed next to it for evaluation only);
3. **Continue** that run from its screening checkpoint to the full budget of the flags.

Runs go through ``reproduce.py``: screening results in
``results/dfvc-<tag>-screen_<dataset>_seed<k>.json``, the choice in
``results/dfvc-<tag>-choice_<dataset>.json``, the continued run in
``results/dfvc-<tag>_<dataset>_seed<k>.json``. Finished steps are skipped and a
``--time-limit`` stop continues when the command is repeated.

Example (5 epochs of MNIST-70k per seed, then the paper's 100 epochs for the chosen one):
    python benchmarks/dfvc_restarts.py --dataset mnist --seeds 0 1 2 3 4 --screen-iters 1370 \\
        --tag quarter-restarts -- --budget paper --data-dir ../shared/data --lr 1e-3 \\
        --filters 16 32 64 128 --fc-units 256 --critic-hidden 128 128 --latent-dim 32
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tfdeepclust.durations import parse_duration, run_before_deadline
from tfdeepclust.results import summary_record

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def selection_score(result: dict) -> float:
    """I(y, y′) of the head the labels are read from, mean over the run's last epoch."""
    losses = result.get("epoch_losses") or {}
    series = losses.get("iic_k_read") or losses.get("iic_k")
    if not series:
        raise ValueError("the run recorded no I(y, y′) (was L_CMI switched off?)")
    return float(series[-1])


def choose(results: dict[int, dict]) -> dict:
    """The seed with the highest :func:`selection_score`, and every seed's figures."""
    rows = [
        {
            "seed": seed,
            "score": selection_score(r),
            "iterations": (r.get("convergence") or {}).get("n_iter"),
            # Evaluation only: the choice above does not read it.
            "acc": r["metrics"].get("acc"),
            "nmi": r["metrics"].get("nmi"),
        }
        for seed, r in sorted(results.items())
    ]
    best = max(rows, key=lambda row: row["score"])
    return {"chosen_seed": best["seed"], "rule": "max I(y, y′), last epoch", "starts": rows}


def _reproduce(args, seed: int, tag: str, flags: list[str], deadline: float | None) -> int:
    cmd = [
        sys.executable, "benchmarks/reproduce.py",
        "--method", "dfvc", "--dataset", args.dataset, "--seeds", str(seed), "--tag", tag,
        "--", *flags,
    ]  # fmt: skip
    return run_before_deadline(cmd, deadline, cwd=ROOT)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--seeds", type=int, nargs="+", required=True, help="the starts")
    p.add_argument("--screen-iters", type=int, required=True, help="iterations per start")
    p.add_argument("--tag", required=True, help="name of the files this writes")
    p.add_argument("--time-limit", type=parse_duration, help="for the whole command (2h30m)")
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="after --: train_dfvc.py flags")
    args = p.parse_args()
    flags = [a for a in args.train_args if a != "--"]
    deadline = None if args.time_limit is None else time.time() + args.time_limit
    screen_tag = f"{args.tag}-screen"

    results = {}
    for seed in args.seeds:
        rc = _reproduce(
            args, seed, screen_tag, [*flags, "--maxiter", str(args.screen_iters)], deadline
        )
        if rc != 0:
            return rc
        path = RESULTS / f"dfvc-{screen_tag}_{args.dataset}_seed{seed}.json"
        results[seed] = json.loads(path.read_text())

    choice = choose(results)
    for row in choice["starts"]:
        print(
            f"seed {row['seed']}: I(y, y′) {row['score']:.4f}  (ACC {row['acc']:.4f}, "
            "evaluation only)",
            flush=True,
        )
    seed = choice["chosen_seed"]
    print(f"chosen without labels: seed {seed}", flush=True)
    choice_path = RESULTS / f"dfvc-{args.tag}-choice_{args.dataset}.json"
    chosen = results[seed]
    record = summary_record(
        "dfvc",
        args.dataset,
        seed,
        {"train_args": flags, "screen_iters": args.screen_iters, "seeds": args.seeds},
        chosen["metrics"],  # the chosen start's, after screening (evaluation only)
        {
            "screening": sum(
                (r.get("wall_time_s") or {}).get("total", 0.0) for r in results.values()
            )
        },
    )
    record.update(choice, command=["benchmarks/dfvc_restarts.py", *sys.argv[1:]])
    choice_path.write_text(json.dumps(record, indent=1) + "\n")

    # The chosen start continues in its screening folder (maxiter is not part of a run's
    # identity, so the full budget resumes from the screening checkpoint).
    screen_dir = Path("runs") / "bench" / f"dfvc-{screen_tag}_{args.dataset}_seed{seed}"
    return _reproduce(args, seed, args.tag, [*flags, "--output-dir", str(screen_dir)], deadline)


if __name__ == "__main__":
    sys.exit(main())
