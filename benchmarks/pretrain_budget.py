"""Accuracy against pretraining budget: one long pretraining, AE + k-means at chosen iterations.

The DEC family's result is bounded by its pretrained embedding, and the papers' pretraining
budgets (ADEC: 130,000 ACAI iterations, ~5.4 h here) do not fit one session. This runs the
method's own pretraining phase (same seeding, data pipeline and optimizer as the training script)
once, and at each ``--eval-at`` iteration records the ACC / NMI / ARI of the method's initial
clusters (k-means, or UMAP + GMM with ASC2D's default ``--init``) on the whole data set,
the wall time, and a weights snapshot that ``train_<method>.py --pretrained SNAPSHOT`` can
start a clustering phase from. The JSON is rewritten atomically after every evaluation, so a run
cut short keeps what it measured.

Long budgets span several jobs: with ``--time-limit`` (after ``--``, as for the training
scripts) the pretraining stops after the last epoch that ends in time, keeps its epoch backup in
the snapshot folder and exits with code 75; the same command continues from that epoch, keeping
the evaluations already in ``--out``. With ``--portable FILE`` a stop also packs that backup into
FILE (float16 weights, without the optimizers' moments: 7.8 MB for ADEC on USPS), and a run
that finds no backup but FILE continues from it on any machine, with fresh optimizers; the
JSON records where it did.

Example (the rest of the options go to the method's training-script parser):
    python benchmarks/pretrain_budget.py --method adec --eval-at 2500 5000 10000 20000 \
        --snapshot-dir runs/snapshots \
        --out benchmarks/results/pretrain_budget_adec_usps_seed0.json \
        -- --dataset usps --seed 0 --budget paper --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", required=True, choices=("asc2d", "adec"))
    p.add_argument("--eval-at", type=int, nargs="+", required=True, help="iterations")
    p.add_argument("--snapshot-dir", required=True, help="where weight snapshots go (not the repo)")
    p.add_argument("--out", required=True, help="results JSON")
    p.add_argument(
        "--portable",
        help="packed backup (.npz) written when --time-limit stops the run and read when the "
        "snapshot folder holds no backup (another machine)",
    )
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="training-script options after --")
    args = p.parse_args()

    import keras

    from tfdeepclust.api import get_recipe
    from tfdeepclust.atomic import atomic_write_json
    from tfdeepclust.cli import parse_args, recipe_parser
    from tfdeepclust.data.pipeline import steps_per_epoch
    from tfdeepclust.results import git_sha, machine_info, package_versions
    from tfdeepclust.run_spec import resolve
    from tfdeepclust.runner import build_seeded, prepare_data
    from tfdeepclust.training.initialisation import initialise_clustering
    from tfdeepclust.training.portable_backup import pack_backup, unpack_backup
    from tfdeepclust.training.time_limit import EXIT_TIME_LIMIT, TimeLimit, TimeLimitReached

    recipe = get_recipe(args.method)
    parser = recipe_parser(recipe)
    common, cfg = parse_args(parser, recipe.config_cls, [a for a in args.train_args if a != "--"])

    t_start = time.perf_counter()
    # The runner's seeding and build, so the snapshot at iteration i is the weights a training
    # run with a budget of i iterations would have produced.
    keras.utils.set_random_seed(common.seed)
    data, common = prepare_data(recipe, common)
    if data.y is None:
        raise SystemExit("this benchmark needs labels (AE + k-means ACC at every evaluation)")
    spec = resolve(recipe, common, cfg, data)
    common, cfg = spec.common, spec.config
    model = build_seeded(recipe, cfg, common, data)

    steps = steps_per_epoch(data.n_samples, common.batch_size)
    eval_at = sorted(set(args.eval_at))
    common = dataclasses.replace(common, pretrain_epochs=math.ceil(eval_at[-1] / steps))
    snap_dir = Path(args.snapshot_dir)
    snap_dir.mkdir(parents=True, exist_ok=True)
    weights = keras.Model(model.encoder.input, model.decoder(model.encoder.output))
    old = _previous_run(Path(args.out), eval_at, common.seed, data.name)
    previous = old.get("curve", [])
    result = {
        # As typed from the repository (no interpreter path): the command reruns anywhere.
        "benchmark": {"name": "pretrain_budget", "command": " ".join(["python", *sys.argv])},
        "method": recipe.name,
        "dataset": data.name,
        "seed": common.seed,
        "config": {"common": dataclasses.asdict(common), "method": dataclasses.asdict(cfg)},
        "eval_at": eval_at,
        "steps_per_epoch": steps,
        "metrics": None,
        "curve": previous,
        # Each continuation from a packed backup: its epoch (float16 weights, fresh optimizers).
        "continued_from_portable": old.get("continued_from_portable", []),
        # Training time up to a time-limited stop (its backup's epoch): a continuation counts on
        # from it, not from the last evaluation, so the time in between is not lost.
        "stopped_at": old.get("stopped_at"),
        "wall_time_s": None,
        "git_sha": git_sha(),
        "versions": package_versions(),
        "machine": machine_info(),
    }

    class Evaluate(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.iteration = None
            last = result["stopped_at"] or (previous[-1] if previous else {"train_time_s": 0.0})
            self.train_time = last["train_time_s"]
            self._t = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            if self.iteration is None:  # the first epoch of this process (a resume: later)
                self.iteration = epoch * steps
                # Evaluations after the backup's epoch are redone from it.
                result["curve"] = [r for r in result["curve"] if r["iteration"] <= self.iteration]
                self._t = time.perf_counter()

        def time_at_stop(self) -> float:
            """The training time up to now (a time-limited stop: after its last epoch)."""
            return self.train_time + time.perf_counter() - self._t

        def on_train_batch_end(self, batch, logs=None):
            self.iteration += 1
            if self.iteration not in eval_at:
                return
            self.train_time += time.perf_counter() - self._t
            snap = snap_dir / f"{recipe.name}_{data.name}_seed{common.seed}_it{self.iteration}"
            snap = snap.with_suffix(".weights.h5")
            weights.save_weights(snap)
            # The method's own initialisation (ASC2D: UMAP + GMM by default, --init kmeans).
            method = getattr(cfg, "init", "kmeans")
            init = initialise_clustering(
                model, data.x, data.y, common.seed, common.kmeans_n_init, method
            )
            row = {
                "iteration": self.iteration,
                "train_time_s": round(self.train_time, 1),
                "logs": {k: float(v) for k, v in (logs or {}).items()},
                **init["metrics"],
                "snapshot": str(snap),
            }
            result["curve"].append(row)
            result["stopped_at"] = None  # this row's time supersedes an earlier stop's
            result["metrics"] = {k: row[k] for k in ("acc", "nmi", "ari")}
            result["wall_time_s"] = round(time.perf_counter() - t_start, 1)
            atomic_write_json(args.out, result)
            print(f"[budget] {row}", flush=True)
            if self.iteration >= eval_at[-1]:
                self.model.stop_training = True
            self._t = time.perf_counter()

    # Pretraining's epoch backup lives beside the snapshots, so a rerun continues it.
    cache = snap_dir / f"{recipe.name}_{data.name}_seed{common.seed}_pretraining.weights.h5"
    backup = Path(f"{cache}.backup")
    if (
        args.portable
        and not backup.is_dir()
        and not cache.is_file()
        and Path(args.portable).is_file()
    ):
        meta = unpack_backup(args.portable, backup)
        result["continued_from_portable"].append({"epoch": meta["epoch"], "file": args.portable})
        print(
            f"[budget] continuing from the packed backup {args.portable} at epoch "
            f"{meta['epoch']} (float16 weights, fresh optimizers)",
            flush=True,
        )
        atomic_write_json(args.out, result)
    evaluate = Evaluate()
    callbacks: list = [evaluate]
    if common.time_limit is not None:
        callbacks.append(TimeLimit(common.time_limit, "epoch", t_start))
    try:
        recipe.pretrain(model, cfg, common, data, cache, callbacks)
    except TimeLimitReached as e:
        print(f"stopped: {e}", flush=True)
        result["stopped_at"] = {"train_time_s": round(evaluate.time_at_stop(), 1)}
        atomic_write_json(args.out, result)
        if args.portable:
            size = pack_backup(backup, args.portable)
            print(f"[budget] packed the backup into {args.portable} ({size / 1e6:.1f} MB)")
        return EXIT_TIME_LIMIT
    return 0


def _previous_run(out: Path, eval_at: list[int], seed: int, dataset: str) -> dict:
    """What an earlier, interrupted run of the same benchmark wrote to ``out`` ({} if none)."""
    import json

    if not out.is_file():
        return {}
    old = json.loads(out.read_text())
    if (old.get("eval_at"), old.get("seed"), old.get("dataset")) != (eval_at, seed, dataset):
        raise SystemExit(f"{out} holds another benchmark (eval_at, seed or data set differ)")
    return old


if __name__ == "__main__":
    sys.exit(main())
