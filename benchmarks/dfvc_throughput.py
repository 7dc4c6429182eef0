"""Training throughput of DFVC's step on this machine (image pairs per second), lever by lever.

Measures the full ``train_step`` (both views through the encoder in one pass, all critics, both
heads, one Adam update) on random 28×28×1 batches: the paper-width encoder at float32 and batch
256 (the reference), then one lever at a time: bfloat16 compute (``--precision bfloat16``; only
where the CPU has bfloat16 dot products, otherwise it is emulated and the row says so), batch 128
and 512, the cost of the local critic (the step without it), XLA (``--xla``: slow to compile,
measured 3.5× slower before); the half- and quarter-width networks at float32 and bfloat16; and
the two-view augmentation pipeline alone. Run it while nothing else uses the CPU. Writes
``benchmarks/results/dfvc_throughput.json`` (``--out`` to write elsewhere).

    python benchmarks/dfvc_throughput.py [--steps 8] [--xla]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PAPER = {}
HALF = dict(filters=(32, 64, 128, 256), fc_units=512, critic_hidden=(256, 256))
QUARTER = dict(filters=(16, 32, 64, 128), fc_units=256, critic_hidden=(128, 128), latent_dim=32)
REFERENCE_BATCH = 256

# (row name, network, other DFVC hyperparameters, batch, XLA); the first row is the reference.
LEVERS = [
    ("paper widths, float32, batch 256 (reference)", PAPER, {}, 256, False),
    ("paper widths, bfloat16", PAPER, {"precision": "bfloat16"}, 256, False),
    ("paper widths, float32, batch 128", PAPER, {}, 128, False),
    ("paper widths, float32, batch 512", PAPER, {}, 512, False),
    ("paper widths, bfloat16, batch 512", PAPER, {"precision": "bfloat16"}, 512, False),
    ("paper widths, float32, without the local critic", PAPER, {"use_local": False}, 256, False),
    ("half widths, float32", HALF, {}, 256, False),
    ("half widths, bfloat16", HALF, {"precision": "bfloat16"}, 256, False),
    ("quarter widths, float32", QUARTER, {}, 256, False),
    ("quarter widths, bfloat16", QUARTER, {"precision": "bfloat16"}, 256, False),
]
XLA_ROW = ("paper widths, float32, XLA", PAPER, {}, 256, True)


def time_step(kwargs: dict, batch: int, steps: int, jit: bool) -> float:
    """Image pairs per second of ``steps`` train steps after two warm-up steps."""
    import keras
    import numpy as np

    from tfdeepclust.methods.dfvc import DFVC

    keras.utils.set_random_seed(0)
    model = DFVC((28, 28, 1), 10, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), jit_compile=jit)
    model.attach_targets(batch)
    rng = np.random.default_rng(0)
    x1 = rng.random((batch, 28, 28, 1), dtype=np.float32)
    x2 = rng.random((batch, 28, 28, 1), dtype=np.float32)
    ids = np.arange(batch)
    for _ in range(2):  # trace + warm-up
        model.train_on_batch((x1, x2), ids)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch((x1, x2), ids)
    return batch * steps / (time.perf_counter() - t0)


def time_views(batch: int, n_batches: int = 40) -> float:
    import numpy as np

    from tfdeepclust.data.augment import ViewPair, build_augmenter
    from tfdeepclust.data.pipeline import make_train_dataset

    x = np.random.default_rng(0).random((batch * 8, 28, 28, 1), dtype=np.float32)
    ds = make_train_dataset(x, batch, 0, augmenter=ViewPair(build_augmenter("dfvc_grey", 0)))
    it = iter(ds)
    next(it)
    t0 = time.perf_counter()
    for _ in range(n_batches):
        next(it)
    return batch * n_batches / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--xla", action="store_true", help="also time the reference under XLA")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/dfvc_throughput.json")
    args = p.parse_args()
    from tfdeepclust.nn.precision import cpu_has_bf16
    from tfdeepclust.results import git_sha, machine_info, package_versions

    t_start = time.perf_counter()
    native_bf16 = cpu_has_bf16()
    rows = []
    for name, network, extra, batch, jit in LEVERS + ([XLA_ROW] if args.xla else []):
        pps = time_step({**network, **extra}, batch, args.steps, jit)
        row = {"lever": name, "batch": batch, "jit_compile": jit, "pairs_per_s": round(pps, 1)}
        row.update(extra)
        if extra.get("precision") == "bfloat16" and not native_bf16:
            row["note"] = "no bfloat16 dot products on this CPU: emulated ('auto' picks float32)"
        row["speed_vs_reference"] = round(pps / rows[0]["pairs_per_s"], 2) if rows else 1.0
        rows.append(row)
        print(f"{name:55s} {pps:8.1f} pairs/s  x{row['speed_vs_reference']}", flush=True)
    views = time_views(REFERENCE_BATCH)
    print(f"two-view augmentation pipeline alone: {views:.0f} pairs/s")
    reference = rows[0]["pairs_per_s"]
    best = max((r for r in rows if r["lever"].startswith("paper")), key=lambda r: r["pairs_per_s"])
    epoch_s = 70000 / best["pairs_per_s"]
    out = {
        # The keys every benchmark result carries (metrics: throughput, not clustering quality).
        "method": "dfvc",
        "dataset": "random 28x28x1 (throughput only)",
        "seed": 0,
        "config": {"steps": args.steps, "levers": [r[0] for r in LEVERS], "xla": args.xla},
        "metrics": {
            "paper_width_pairs_per_s": reference,
            "paper_width_best_pairs_per_s": best["pairs_per_s"],
            "best_lever": best["lever"],
        },
        "cpu_has_bf16": native_bf16,
        "wall_time_s": {"total": time.perf_counter() - t_start},
        "git_sha": git_sha(),
        "steps": args.steps,
        "train_step": rows,
        "view_pipeline_pairs_per_s": round(views, 1),
        "paper_width_mnist70k_epoch_s_best": round(epoch_s, 1),
        "paper_budget_100_epochs_h_best": round(100 * epoch_s / 3600, 1),
        "versions": package_versions(),
        "machine": machine_info(),
        "command": "python benchmarks/dfvc_throughput.py"
        + (f" --steps {args.steps}" if args.steps != 8 else "")
        + (" --xla" if args.xla else ""),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(
        f"MNIST-70k epoch at paper width ({best['lever']}): {epoch_s / 60:.1f} min; "
        f"wrote {args.out}"
    )


if __name__ == "__main__":
    main()
