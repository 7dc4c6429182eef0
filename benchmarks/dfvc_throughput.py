"""Training throughput of DFVC's step on this machine (image pairs per second).

Measures the full ``train_step`` (both views through the encoder in one pass, all critics, both
heads, one Adam update) on random 28×28×1 batches, for the paper-width encoder and narrower
variants, with and without XLA, plus the two-view augmentation pipeline alone. Run it while
nothing else uses the CPU. Writes ``benchmarks/results/dfvc_throughput.json``.

    python benchmarks/dfvc_throughput.py [--steps 8] [--batch 256]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

VARIANTS = {
    # name: DFVC kwargs (the paper's widths first)
    "paper (64-128-256-512, fc 1024, critics 512-512, d 64)": {},
    "half (32-64-128-256, fc 512, critics 256-256, d 64)": dict(
        filters=(32, 64, 128, 256), fc_units=512, critic_hidden=(256, 256)
    ),
    "quarter (16-32-64-128, fc 256, critics 128-128, d 32)": dict(
        filters=(16, 32, 64, 128), fc_units=256, critic_hidden=(128, 128), latent_dim=32
    ),
}


def time_step(kwargs: dict, batch: int, steps: int, jit: bool) -> float:
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
    p.add_argument("--batch", type=int, default=256)
    args = p.parse_args()
    from tfdeepclust.results import git_sha, machine_info, package_versions

    t_start = time.perf_counter()

    rows = []
    for name, kwargs in VARIANTS.items():
        for jit in (False, True):
            if jit and "paper" not in name:
                continue  # XLA measured once, on the paper's network
            pps = time_step(kwargs, args.batch, args.steps, jit)
            rows.append({"variant": name, "jit_compile": jit, "pairs_per_s": round(pps, 1)})
            print(f"{name:58s} jit={jit!s:5s} {pps:8.1f} pairs/s", flush=True)
    views = time_views(args.batch)
    print(f"two-view augmentation pipeline alone: {views:.0f} pairs/s")
    epoch_s = 70000 / rows[0]["pairs_per_s"]
    out = {
        # The keys every benchmark result carries (metrics: throughput, not clustering quality).
        "method": "dfvc",
        "dataset": "random 28x28x1 (throughput only)",
        "seed": 0,
        "config": {"batch": args.batch, "steps": args.steps, "variants": VARIANTS},
        "metrics": {"paper_width_pairs_per_s": rows[0]["pairs_per_s"]},
        "wall_time_s": {"total": time.perf_counter() - t_start},
        "git_sha": git_sha(),
        "batch": args.batch,
        "steps": args.steps,
        "train_step": rows,
        "view_pipeline_pairs_per_s": round(views, 1),
        "paper_width_mnist70k_epoch_s": round(epoch_s, 1),
        "paper_budget_100_epochs_h": round(100 * epoch_s / 3600, 1),
        "versions": package_versions(),
        "machine": machine_info(),
    }
    dest = ROOT / "benchmarks" / "results" / "dfvc_throughput.json"
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(f"MNIST-70k epoch at paper width: {epoch_s / 60:.1f} min; wrote {dest}")


if __name__ == "__main__":
    main()
