"""Time of one ASC2D joint iteration: the discriminator in float32, in bfloat16, and none.

One iteration = 3 updates of the 2000-2000 discriminator on 2 x 256 rows, then one update of
encoder + decoder + centroids (USPS shapes, batch 256). Run it with nothing else on the machine;
it prints one line per setting and writes ``results/asc2d_step_time.json``.

    python benchmarks/asc2d_step_time.py [--steps 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTINGS = {
    "float32": {"disc_precision": "float32"},
    "bfloat16": {"disc_precision": "bfloat16"},
    "without D": {"use_discriminator": False},
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60)
    args = p.parse_args()

    import keras
    import numpy as np

    from tfdeepclust.atomic import atomic_write_json
    from tfdeepclust.data.pipeline import make_train_dataset
    from tfdeepclust.methods.asc2d import ASC2D
    from tfdeepclust.nn.precision import cpu_has_bf16
    from tfdeepclust.results import git_sha, machine_info, package_versions

    x = np.random.default_rng(0).random((2560, 16, 16, 1)).astype("float32")
    rows = {}
    for name, options in SETTINGS.items():
        keras.utils.set_random_seed(0)
        model = ASC2D((16, 16, 1), 10, **options)
        model.compile()
        model.init_centroids(x, seed=0, n_init=2)
        model.attach_targets(len(x))
        ds = make_train_dataset(x, 256, 0)
        model.fit(ds, epochs=1, steps_per_epoch=5, verbose=0, shuffle=False)  # trace, warm up
        t = time.perf_counter()
        model.fit(ds, epochs=1, steps_per_epoch=args.steps, verbose=0, shuffle=False)
        rows[name] = (time.perf_counter() - t) / args.steps * 1000
        print(f"{name}: {rows[name]:.0f} ms per joint iteration", flush=True)
    out = {
        "benchmark": {"name": "asc2d_step_time", "command": "python benchmarks/asc2d_step_time.py"},
        "method": "asc2d",
        "dataset": "random 16x16x1, batch 256",
        "seed": 0,
        "metrics": {"ms_per_iteration": rows, "cpu_has_bf16": cpu_has_bf16()},
        "wall_time_s": None,
        "config": {"steps": args.steps, "settings": SETTINGS},
        "versions": package_versions(),
        "machine": machine_info(),
        "git_sha": git_sha(),
    }
    atomic_write_json(ROOT / "benchmarks" / "results" / "asc2d_step_time.json", out, overwrite=True)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
