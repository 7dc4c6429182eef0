"""DFVC's plateau on a cheap setting: learning curves of one variant per suspect (issue #29).

Every variant is ``train_dfvc.py`` on MNIST-test (10,000 images) with the quarter-width network
(the setting of the committed MNIST runs), seed 0 (``--seeds`` for more), 25 epochs (1,000
iterations) and an evaluation after each epoch; it changes one thing against a reference. The
reference uses Adam 1e-3, because at the paper's 1e-4 a 1,000-iteration run is still climbing
(the ``paper-lr`` variant measures that), and a plateau is what is being diagnosed. A second
round (``aug-x0.5-*``) changes one thing against the first round's best setting, half-strength
augmentation. Runs go through ``reproduce.py``, so results land in
``results/dfvc-diag-<variant>_mnist_test_seed<seed>.json``, existing ones are skipped and a run
stopped by ``--time-limit`` continues when the command is repeated.

``--markdown`` prints the comparison from the committed JSONs: ACC per epoch, final ACC / NMI, and
the label-free signals next to them (the K-head's categorical MI between the views, I(y, y′), whose
ceiling is log K; cluster-size extremes; the share of labels that changed in the last epoch).

Examples:
    python benchmarks/dfvc_diagnosis.py --time-limit 2h                # run what is missing
    python benchmarks/dfvc_diagnosis.py --variants ref aug-x0.5 --seeds 1 2
    python benchmarks/dfvc_diagnosis.py --markdown --json results/diagnostics/dfvc_diagnosis.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from tfdeepclust.durations import parse_duration, run_before_deadline

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATASET = "mnist_test"
EPOCHS = 25
ITERS_PER_EPOCH = 40  # ceil(10,000 / 256)
# The quarter-width network of the committed MNIST runs (4x narrower than the paper's).
QUARTER = [
    "--filters", "16", "32", "64", "128",
    "--fc-units", "256",
    "--critic-hidden", "128", "128",
    "--latent-dim", "32",
]  # fmt: skip
HALF_WIDTH = [
    "--filters", "32", "64", "128", "256",
    "--fc-units", "512",
    "--critic-hidden", "256", "256",
]  # fmt: skip
REFERENCE = ["--lr", "1e-3"]
# The best augmentation strength of the first round, the base of the second round's ablations.
HALF, HALF_FLAGS = "aug-x0.5", ["--augment-strength", "0.5"]

# name -> (what it tests, flags on top of the reference), in the order they are run: the ones
# that can explain a plateau first.
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "ref": ("reference: paper settings, Adam 1e-3", []),
    "head-mean": ("heads see μ_z in training, not the sampled z", ["--head-input", "mean"]),
    "no-vec": ("without L_VEC", ["--use-vec", "false"]),
    "aug-x2": ("augmentation twice as strong", ["--augment-strength", "2"]),
    "paper-lr": ("the paper's Adam 1e-4", ["--lr", "1e-4"]),
    "no-dmi": (
        "without L_DMI (IIC + L_VEC + L_REG)",
        ["--use-global", "false", "--use-local", "false"],
    ),
    HALF: ("augmentation half as strong", HALF_FLAGS),
    "no-reg": ("without L_REG", ["--use-reg", "false"]),
    "reg-per-sample": ("L_REG as Eq. 35 literally (per sample)", ["--reg-mode", "per_sample"]),
    "no-overcluster": ("without the 2K-way head", ["--overcluster-factor", "0"]),
    "no-local": ("without the local MI critic", ["--use-local", "false"]),
    # Table V's row without L_CMI, the one ablation of item 4 the first round lacked.
    "no-cmi": ("without L_CMI (heads trained by L_VEC and L_REG)", ["--use-cmi", "false"]),
    # After aug-x0.5: which part of the augmentation, and is the rate still needed.
    "aug-x0.25": ("augmentation a quarter as strong", ["--augment-strength", "0.25"]),
    "aug-geometric": (
        "geometric augmentation only (DEC-DA's rotation ±10°, shift ±10 %)",
        ["--augment", "dec"],
    ),
    "aug-x0.5-paper-lr": (
        "augmentation half as strong, the paper's Adam 1e-4",
        [*HALF_FLAGS, "--lr", "1e-4"],
    ),
    # Table V's L_DMI row: no head is trained, labels are k-means on μ_z.
    "dmi-only": (
        "L_DMI only (no L_CMI, L_VEC, L_REG; k-means on μ_z)",
        ["--use-cmi", "false", "--use-vec", "false", "--use-reg", "false"],
    ),
    # The ablations of item 4 again from the best setting found above (aug-x0.5), and
    # bfloat16's effect on accuracy there.
    **{
        f"{HALF}-{name}": (f"{HALF}, {what}", [*HALF_FLAGS, *flags])
        for name, what, flags in (
            ("no-local", "without the local MI critic", ["--use-local", "false"]),
            ("no-cmi", "without L_CMI (heads trained by L_VEC and L_REG)", ["--use-cmi", "false"]),
            ("no-vec", "without L_VEC", ["--use-vec", "false"]),
            ("no-reg", "without L_REG", ["--use-reg", "false"]),
            ("no-dmi", "without L_DMI", ["--use-global", "false", "--use-local", "false"]),
            ("bf16", "bfloat16 trunk and critics", ["--precision", "bfloat16"]),
        )
    },
    # Merged digit pairs are the failure left by the rounds above: IIC's remedy, five sub-heads
    # per head with the labels read from the one with the best running I(y, y′).
    "heads5": ("five sub-heads per head (IIC's)", ["--subheads", "5"]),
    # Twice the quarter width (half the paper's), d_z as in the quarter runs.
    "half-width": ("network twice as wide (half the paper's)", HALF_WIDTH),
}  # fmt: skip
SHOW_EPOCHS = (1, 2, 3, 5, 10, 15, 20)  # the last epoch is the final evaluation


def result_path(variant: str, seed: int = 0) -> Path:
    return RESULTS / f"dfvc-diag-{variant}_{DATASET}_seed{seed}.json"


def train_args(variant: str) -> list[str]:
    """The training script's flags of one variant (after reproduce.py's ``--``)."""
    extra = VARIANTS[variant][1]
    # A variant's own --lr replaces the reference's.
    reference = [] if "--lr" in extra else REFERENCE
    return [
        "--budget", "paper",
        "--maxiter", str(EPOCHS * ITERS_PER_EPOCH),
        "--data-dir", "../shared/data",
        "--no-pictures",
        *QUARTER, *reference, *extra,
    ]  # fmt: skip


def run_missing(variants: list[str], seeds: list[int], time_limit: float | None) -> int:
    deadline = None if time_limit is None else time.time() + time_limit
    for seed, variant in ((s, v) for s in seeds for v in variants):
        cmd = [
            sys.executable, "benchmarks/reproduce.py",
            "--method", "dfvc", "--dataset", DATASET, "--seeds", str(seed),
            "--tag", f"diag-{variant}", "--",
            *train_args(variant),
        ]  # fmt: skip
        rc = run_before_deadline(cmd, deadline, cwd=ROOT)
        if rc != 0:
            return rc
    return 0


def _epoch_acc(history: list[dict]) -> dict[int, float]:
    return {
        round(h["iteration"] / ITERS_PER_EPOCH): h["acc"]
        for h in history
        if h.get("acc") is not None and h["iteration"] > 0
    }


def summarise(variant: str, seed: int = 0) -> dict | None:
    """The curve and the final label-free signals of one committed run, or None."""
    path = result_path(variant, seed)
    if not path.is_file():
        return None
    r = json.loads(path.read_text())
    history = r.get("history") or []
    losses = r.get("epoch_losses") or {}
    last = history[-1] if history else {}
    k = r["n_clusters"]
    return {
        "variant": variant,
        "seed": seed,
        "tests": VARIANTS[variant][0],
        "file": f"results/{path.name}",
        "stop_reason": (r.get("convergence") or {}).get("stop_reason"),
        "iterations": last.get("iteration"),
        "acc_by_epoch": _epoch_acc(history),
        "acc": r["metrics"].get("acc"),
        "nmi": r["metrics"].get("nmi"),
        # The head the labels are read from (the only one without sub-heads).
        "iic_k_last_epoch": (losses.get("iic_k_read") or losses.get("iic_k") or [None])[-1],
        "iic_k_ceiling": math.log(k),
        "l_vec_last_epoch": (losses.get("l_vec") or [None])[-1],
        "smallest_cluster_frac": r["label_free"].get("smallest_cluster_frac"),
        "largest_cluster_frac": r["label_free"].get("largest_cluster_frac"),
        "label_change_last_epoch": last.get("delta_label"),
        "training_s": (r.get("wall_time_s") or {}).get("cluster"),
    }


def markdown(rows: list[dict]) -> str:
    head = ["variant", *(f"ep {e}" for e in SHOW_EPOCHS), f"ep {EPOCHS}: ACC / NMI (final)"]
    head += ["I(y,y′) (≤ log K)", "smallest / largest", "labels moved, last epoch"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        curve = [r["acc_by_epoch"].get(e) for e in SHOW_EPOCHS]
        seed = f" (seed {r['seed']})" if r.get("seed") else ""
        cells = [f"`{r['variant']}`{seed}: {r['tests']}"]
        cells += ["—" if a is None else f"{a:.3f}" for a in curve]
        cells.append(f"**{r['acc']:.3f}** / {r['nmi']:.3f}")
        iic = r["iic_k_last_epoch"]
        cells.append("—" if iic is None else f"{iic:.2f} / {r['iic_k_ceiling']:.2f}")
        cells.append(f"{r['smallest_cluster_frac']:.1%} / {r['largest_cluster_frac']:.1%}")
        moved = r["label_change_last_epoch"]
        cells.append("—" if moved is None else f"{moved:.1%}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="each variant per seed")
    p.add_argument("--time-limit", type=parse_duration, help="for the whole sweep (90m, 2h)")
    p.add_argument("--markdown", action="store_true", help="print the table of committed runs")
    p.add_argument("--json", type=Path, help="with --markdown: write the summary here")
    args = p.parse_args()
    if not args.markdown:
        return run_missing(args.variants, args.seeds, args.time_limit)
    rows = [summarise(v, seed) for v in args.variants for seed in args.seeds]
    rows = [r for r in rows if r is not None]
    print(markdown(rows))
    if args.json:
        out = args.json if args.json.is_absolute() else ROOT / "benchmarks" / args.json
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
