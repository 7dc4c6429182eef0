"""FR and FD (ADEC §3, Eqs. 5-6) along several committed ADEC-family runs, in one figure.

Reads the ``diagnostics`` of ``benchmarks/results/<name>.json`` and draws FR (the cosine between
the encoder's training gradient and a supervised one) and FD (the cosine between the KL and the
self-supervised gradient) against the clustering iteration, one line per run:

    python benchmarks/fr_fd_figure.py --runs adec-decda3k-adec_usps_seed0 \
        adec-decda3k-lr1e-3_usps_seed0 --out benchmarks/figures/adec_fr_fd_usps.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", required=True, help="result JSON names, no suffix")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--title", default="", help="the figure's title")
    parser.add_argument("--results-dir", default=str(RESULTS), help="where the JSONs are")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for colour, name in enumerate(args.runs):
        path = Path(args.results_dir) / f"{name}.json"
        diag = json.loads(path.read_text()).get("diagnostics") or []
        if not diag:
            raise SystemExit(f"{path} has no FR/FD diagnostics")
        for ax, key in zip(axes, ("fr", "fd"), strict=True):
            points = [(d["iteration"], d[key]) for d in diag if d.get(key) is not None]
            if points:
                # One colour per run in both panels (DEC* has no FD line).
                ax.plot(*zip(*points, strict=True), marker=".", label=name, color=f"C{colour}")
    for ax, title in zip(axes, ("Feature Randomness (FR)", "Feature Drift (FD)"), strict=True):
        ax.axhline(0.0, color="grey", linewidth=0.5)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("clustering iteration")
        ax.set_ylim(-1.0, 1.0)
    axes[0].set_ylabel("gradient cosine")
    axes[0].legend(fontsize=7)
    if args.title:
        fig.suptitle(args.title, fontsize=10)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
