"""What a sweep leaves behind: a table of trials (JSON + CSV), the label-free objective's rank
agreement with the oracle metrics, and sensitivity plots like ASC2D's Figs. 4-5."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from tfdeepclust.atomic import atomic_save_figure
from tfdeepclust.tuning.space import Param


def collect_trials(tuner, params: tuple[Param, ...]) -> list[dict]:
    """One row per trial (completed, failed or still running), in trial-id order."""
    rows = []
    for tid, trial in sorted(tuner.oracle.trials.items()):
        row = {"trial_id": tid, "status": str(trial.status)}
        row.update({p.name: trial.hyperparameters.values.get(p.name) for p in params})
        for name in trial.metrics.metrics:
            row[name] = trial.metrics.get_last_value(name)
        rows.append(row)
    return rows


def rank_agreement(rows: list[dict], objective: str, direction: str) -> dict:
    """Spearman and Kendall correlation between the objective and each oracle metric.

    Signs are oriented so that +1 means "the objective ranks trials exactly as the oracle
    metric does" whatever the objective's direction. None when fewer than 3 trials have both.
    """
    from scipy.stats import kendalltau, spearmanr

    out = {}
    for oracle in ("oracle_acc", "oracle_nmi", "oracle_ari"):
        pairs = [
            (r[objective], r[oracle])
            for r in rows
            if _finite(r.get(objective)) and _finite(r.get(oracle))
        ]
        entry = {"n_trials": len(pairs), "spearman": None, "kendall": None}
        if len(pairs) >= 3 and objective != oracle:
            a, b = np.array(pairs, dtype=float).T
            sign = 1.0 if direction == "max" else -1.0
            if np.ptp(a) > 0 and np.ptp(b) > 0:
                entry["spearman"] = float(sign * spearmanr(a, b).statistic)
                entry["kendall"] = float(sign * kendalltau(a, b).statistic)
        out[oracle] = entry
    return out


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def trials_csv(rows: list[dict]) -> str:
    """The trial table as CSV text (columns: union of every row's keys, in first-seen order)."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def format_table(rows: list[dict], params: tuple[Param, ...], objective: str) -> str:
    """A fixed-width table for the console, best objective first among completed trials."""
    cols = ["trial_id", "status", *[p.name for p in params], objective]
    cols += [c for c in ("oracle_acc", "oracle_nmi", "oracle_ari") if any(c in r for r in rows)]
    cols += ["n_iter", "wall_time_s"]
    cols = list(dict.fromkeys(cols))

    def cell(v) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return "-" if v is None else str(v)

    body = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [
        max(len(c), *(len(b[i]) for b in body)) if body else len(c) for i, c in enumerate(cols)
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines)


def plot_sensitivity(
    rows: list[dict], params: tuple[Param, ...], objective: str, path: str | Path, title: str
) -> Path | None:
    """One panel per tuned parameter: ACC and NMI (when labels exist) and the objective against
    the parameter's value, as in ASC2D's Figs. 4-5. Returns the PNG path (None: no trials).

    Points are not joined: in a random or Bayesian search the other parameters vary between
    neighbouring points, so a line would suggest a one-at-a-time curve that was not measured.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if _finite(r.get(objective))]
    if not done:
        return None
    fig, axes = plt.subplots(1, len(params), figsize=(4.2 * len(params), 3.4), squeeze=False)
    for ax, p in zip(axes[0], params, strict=True):
        order = sorted(done, key=lambda r: r[p.name])
        xs = [r[p.name] for r in order]
        for key, style in (("oracle_acc", "o"), ("oracle_nmi", "s")):
            if all(key in r for r in order):
                ax.plot(xs, [r[key] for r in order], style, label=key.removeprefix("oracle_"))
        ax2 = ax.twinx()
        ax2.plot(xs, [r[objective] for r in order], "^", color="tab:green", label=objective)
        ax2.set_ylabel(objective, color="tab:green")
        if p.log:
            ax.set_xscale("log")
        ax.set_xlabel(p.name)
        ax.set_ylabel("ACC / NMI")
        ax.grid(alpha=0.3)
        handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        ax.legend(handles=handles, fontsize=7, loc="lower left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = atomic_save_figure(fig, path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["collect_trials", "format_table", "plot_sensitivity", "rank_agreement", "trials_csv"]
