"""DFVC's sub-heads after training: does the label-free choice read the best one? (issue #29)

A run with ``--subheads H`` trains H K-way sub-heads and reads the labels from the one with the
best running I(y, y′) (``tfdeepclust.nn.heads.SoftmaxHeads``). This script evaluates every
sub-head of finished runs against the labels — evaluation only; the choice itself used none:
from the run folder's last checkpoint (the heads' weights and running scores), its
``outputs.npz`` (μ_z of every image) and ``labels.csv`` (the true labels next to the clusters).

Example:
    python benchmarks/dfvc_subheads.py runs/bench/dfvc-diag-heads5_mnist_test_seed{0,1,2} \\
        --json results/diagnostics/dfvc_subheads.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from tfdeepclust.metrics import supervised_metrics
from tfdeepclust.results import summary_record

ROOT = Path(__file__).resolve().parents[1]
HEAD = "model/clustering/{}/.ATTRIBUTES/VARIABLE_VALUE"


def head_weights(run_dir: Path) -> dict[str, np.ndarray]:
    """The K-way head's kernel, bias and running scores from the run's newest checkpoint."""
    import tensorflow as tf

    path = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    if path is None:
        raise FileNotFoundError(f"{run_dir}/checkpoints holds no checkpoint")
    reader = tf.train.load_checkpoint(path)
    names = reader.get_variable_to_shape_map()
    if HEAD.format("head_score") not in names:
        raise ValueError(f"{run_dir} was trained without sub-heads")
    kernel = HEAD.format("_kernel" if HEAD.format("_kernel") in names else "kernel")
    return {
        "kernel": reader.get_tensor(kernel),
        "bias": reader.get_tensor(HEAD.format("bias")),
        "score": reader.get_tensor(HEAD.format("head_score")),
    }


def evaluate(run_dir: Path) -> dict:
    """ACC / NMI of every sub-head, its running score, and which one the run read."""
    w = head_weights(run_dir)
    out = np.load(run_dir / "outputs.npz")
    rows = np.loadtxt(run_dir / "labels.csv", delimiter=",", skiprows=1, dtype=np.int64)
    if rows.ndim != 2 or rows.shape[1] < 3:
        raise ValueError(f"{run_dir}/labels.csv has no true labels to evaluate against")
    y = rows[:, 2]
    n_heads = w["score"].shape[0]
    logits = out["embedding"] @ w["kernel"] + w["bias"]
    preds = logits.reshape(len(y), n_heads, -1).argmax(-1)  # softmax keeps the argmax
    read = int(np.argmax(w["score"]))
    if not np.array_equal(preds[:, read], out["labels"]):
        raise ValueError(f"{run_dir}: the read sub-head does not give the run's labels")
    heads = [
        {"head": h, "score": float(w["score"][h]), **supervised_metrics(y, preds[:, h])}
        for h in range(n_heads)
    ]
    accs = [h["acc"] for h in heads]
    run = json.loads((run_dir / "results.json").read_text())
    return {
        "run": run_dir.name,
        "dataset": run["dataset"],
        "seed": run["seed"],
        "read": read,
        "read_acc": accs[read],
        "best_acc": max(accs),
        "worst_acc": min(accs),
        "read_is_best": accs[read] == max(accs),
        "heads": heads,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path, help="run folders trained with --subheads")
    p.add_argument("--json", type=Path, help="write the rows here (relative to benchmarks/)")
    args = p.parse_args()
    rows = [evaluate(r) for r in args.runs]
    for r in rows:
        cells = "  ".join(f"{h['acc']:.3f}@{h['score']:.3f}" for h in r["heads"])
        print(f"{r['run']}: read head {r['read']} (ACC {r['read_acc']:.3f}); ACC@score {cells}")
    if args.json:
        path = args.json if args.json.is_absolute() else ROOT / "benchmarks" / args.json
        path.parent.mkdir(parents=True, exist_ok=True)
        # The run folders as the checkout that trained them names them (runs/...).
        runs = [str(r)[str(r).find("runs/") :] if "runs/" in str(r) else str(r) for r in args.runs]
        command = ["benchmarks/dfvc_subheads.py", *runs, "--json", str(args.json)]
        record = summary_record(
            "dfvc",
            sorted({r["dataset"] for r in rows}),
            [r["seed"] for r in rows],
            {"subheads": sorted({len(r["heads"]) for r in rows})},
            {  # the read sub-head's ACC, and the best sub-head's (labels for evaluation only)
                "read_acc_mean": float(np.mean([r["read_acc"] for r in rows])),
                "best_acc_mean": float(np.mean([r["best_acc"] for r in rows])),
                "read_is_best": sum(r["read_is_best"] for r in rows),
            },
            None,  # an evaluation of finished runs: no training time of its own
        )
        record.update(command=command, runs=rows)
        path.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
