"""What ``--deterministic`` (TF op determinism) costs: training steps/s with and without it.

Each configuration runs in its own process (op determinism cannot be switched off again), on
real USPS images: ASC2D's clustering step (batch 256) and DFVC's step (quarter-width network,
batch 64 view pairs). Prints a table and writes ``benchmarks/results/determinism_cost.json``.

    python benchmarks/determinism_cost.py [--steps 60]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "determinism_cost.json"


def measure(method: str, deterministic: bool, steps: int) -> float:
    """Steps per second of ``method``'s train step (in this process)."""
    import keras
    import numpy as np
    import tensorflow as tf

    if deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(0)
    from tfdeepclust.data import load_dataset

    x = load_dataset("usps").x
    if method == "asc2d":
        from tfdeepclust.methods.asc2d import ASC2D

        model = ASC2D(x.shape[1:], 10)
        model.compile()
        model.attach_targets(len(x))
        batch = 256
        ds = tf.data.Dataset.from_tensor_slices((x, np.arange(len(x)))).repeat().batch(batch)
    else:
        from tfdeepclust.methods.dfvc import DFVC

        model = DFVC(
            x.shape[1:],
            10,
            filters=(16, 32, 64, 128),
            fc_units=256,
            critic_hidden=(128, 128),
            latent_dim=32,
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-4))
        model.attach_targets(len(x))
        batch = 64
        views = tf.data.Dataset.from_tensor_slices(((x, x[::-1].copy()), np.arange(len(x))))
        ds = views.repeat().batch(batch)
    model.fit(ds, steps_per_epoch=5, epochs=1, verbose=0)  # trace + warm up
    t0 = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps / (time.perf_counter() - t0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--child", nargs=2, metavar=("METHOD", "DETERMINISTIC"))
    args = p.parse_args()
    if args.child:
        print(measure(args.child[0], args.child[1] == "1", args.steps))
        return 0
    t_start = time.perf_counter()
    rows = []
    for method in ("asc2d", "dfvc"):
        rates = {}
        for det in (False, True):
            cmd = [sys.executable, __file__, "--steps", str(args.steps), "--child", method]
            out = subprocess.run(
                [*cmd, "1" if det else "0"], capture_output=True, text=True, check=True, cwd=ROOT
            )
            rates[det] = float(out.stdout.strip().splitlines()[-1])
        rows.append(
            {
                "method": method,
                "steps_per_s": rates[False],
                "steps_per_s_deterministic": rates[True],
                "slowdown": rates[False] / rates[True],
            }
        )
        print(
            f"{method}: {rates[False]:.2f} steps/s, deterministic {rates[True]:.2f} steps/s "
            f"(x{rates[False] / rates[True]:.2f} slower)",
            flush=True,
        )
    from tfdeepclust.atomic import atomic_write_json
    from tfdeepclust.results import git_sha, machine_info, package_versions

    atomic_write_json(
        OUT,
        {
            "method": "asc2d+dfvc",
            "dataset": "usps (throughput only)",
            "seed": 0,
            "config": {"steps": args.steps, "asc2d_batch": 256, "dfvc_batch_pairs": 64},
            "metrics": {r["method"] + "_slowdown": r["slowdown"] for r in rows},
            "wall_time_s": {"total": time.perf_counter() - t_start},
            "git_sha": git_sha(),
            "rows": rows,
            "machine": machine_info(),
            "versions": package_versions(),
        },
    )
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
