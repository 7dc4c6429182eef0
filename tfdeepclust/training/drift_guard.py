"""A label-free guard against late drift and label flips in DEC-family self-training.

Self-training with the DEC target keeps sharpening its own assignments after it has converged:
committed runs reached their best clustering and then lost it (DEC* on MNIST-full 0.981 →
0.908 at the cap as two clusters merged; ASC2D on MNIST-test flipped 15 % of its labels in one
interval). With augmented batches the label change never falls below ``tol``, so the cap, not
convergence, ended those runs. The guard reads only the label-free figures of the full-data
target refreshes (the label change between refreshes), never ACC/NMI:

* **plateau**: once the run has settled (a refresh changed fewer than ``settle`` of the
  labels), the median label change of the last window of refreshes (at least ``window``
  refreshes and ``window_iterations`` iterations) is compared with that of the window before
  it. When it no longer falls, self-training has stopped converging and only moves boundary
  samples back and forth; what follows is the slow drift. The run stops with its state.
* **flip**: a refresh that changes at least ``flip_min`` of the labels and ``flip_factor``
  times the median change of the refreshes before it (since settling; before settling, once
  ``flip_baseline`` refreshes exist) is a flip. The state of the previous refresh (the last one
  judged good) is restored and the run stops. Before settling counts because ADEC's
  adversarial phase can blow up within its first refreshes (USPS, from DEC-DA's embedding:
  1-2 % of the labels per refresh, then 12, 42 and 70 %, and ACC 0.94 → 0.50).
* **rise**: after settling, the label change climbs back instead of jumping: the median of the
  last ``flip_baseline`` refreshes reaches ``flip_min`` and ``rise_factor`` times the lowest
  such median since settling. Self-training is unravelling (ADEC's adversarial phase did this
  on USPS: 1 % of the labels per refresh, then 5, 8, 11 % and empty clusters, with no single
  refresh large enough to be a flip). The state at the end of the calmest window (the lowest
  median) is restored and the run stops.

The decisions are pure functions of the refresh history (:func:`judge`), so the rule replays on
any committed run (``benchmarks/drift_replay.py``) and is tested on synthetic histories.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass

# The only history keys the guard reads: none of them depends on the labels.
LABEL_FREE_KEYS = ("iteration", "delta_label", "kept_targets")


@dataclass(frozen=True)
class DriftRule:
    """Thresholds of the guard (label-change fractions; counts of refreshes)."""

    settle: float = 0.01  # a refresh below this label change means the run has settled
    # Each window of the plateau test spans at least this many refreshes and iterations (two
    # windows after settling): the committed DEC* runs peaked ~3,000 iterations in on MNIST
    # (T = 140) and were still improving then on MNIST-test (T = 30).
    window: int = 10
    window_iterations: int = 1500
    flip_min: float = 0.02  # a flip changes at least this fraction of the labels in one interval
    flip_factor: float = 5.0  # ... and this many times the median change of the last refreshes
    flip_baseline: int = 5  # refreshes the median is taken over
    # A rise: the recent median label change is this many times its lowest since settling.
    rise_factor: float = 3.0


def _changes(history: list[dict]) -> list[tuple[int, float]]:
    """(iteration, label change) of the refreshes that measured self-training: not iteration 0
    and not refreshes that kept an initialisation's targets (they measure distance to those)."""
    out = []
    for entry in history:
        entry = {k: entry.get(k) for k in LABEL_FREE_KEYS}
        if entry["iteration"] and not entry["kept_targets"]:
            out.append((int(entry["iteration"]), float(entry["delta_label"])))
    return out


def _settled_at(changes: list[tuple[int, float]], rule: DriftRule) -> int | None:
    return next((i for i, (_, d) in enumerate(changes) if d < rule.settle), None)


def window_medians(history: list[dict], rule: DriftRule = DriftRule()) -> list[tuple[int, float]]:
    """(iteration, median label change of the ``flip_baseline`` refreshes ending there) for
    every refresh since the run settled that closes a full window."""
    changes = _changes(history)
    start = _settled_at(changes, rule)
    if start is None:
        return []
    b = rule.flip_baseline
    deltas = [d for _, d in changes[start:]]
    return [
        (changes[start + i][0], statistics.median(deltas[i - b + 1 : i + 1]))
        for i in range(b - 1, len(deltas))
    ]


def calmest_iteration(history: list[dict], rule: DriftRule = DriftRule()) -> int | None:
    """The refresh that ends the window with the lowest median label change since settling (the
    first, on ties): the state a rise restores. None before the first full window."""
    medians = window_medians(history, rule)
    return min(medians, key=lambda m: m[1])[0] if medians else None


def judge(history: list[dict], rule: DriftRule = DriftRule()) -> dict | None:
    """The guard's decision after the last refresh of ``history``.

    Returns:
        None (train on), or ``{"rule": "plateau" | "flip" | "rise", "iteration",
        "delta_label", "evidence": {...}}``; a flip also names ``restore_iteration``, the
        refresh before it, and a rise the refresh that ends its calmest window.
    """
    changes = _changes(history)
    if not changes:
        return None
    settled_at = _settled_at(changes, rule)
    it, delta = changes[-1]
    before = [d for _, d in changes[settled_at or 0 : -1]]
    if before and (settled_at is not None or len(before) >= rule.flip_baseline):
        baseline = statistics.median(before[-rule.flip_baseline :])
        if delta >= max(rule.flip_min, rule.flip_factor * baseline):
            return {
                "rule": "flip",
                "iteration": it,
                "delta_label": delta,
                "restore_iteration": changes[-2][0],
                "evidence": {
                    "median_label_change_before": baseline,
                    "before_settling": settled_at is None,
                    **asdict(rule),
                },
            }
    if settled_at is None:
        return None
    medians = window_medians(history, rule)
    if medians:
        calm_it, low = min(medians, key=lambda m: m[1])
        recent = medians[-1][1]
        if recent >= max(rule.flip_min, rule.rise_factor * low):
            return {
                "rule": "rise",
                "iteration": it,
                "delta_label": delta,
                "restore_iteration": calm_it,
                "evidence": {
                    "median_label_change_recent": recent,
                    "median_label_change_lowest": low,
                    **asdict(rule),
                },
            }
    settled = [d for _, d in changes[settled_at:]]
    interval = changes[-1][0] - changes[-2][0] if len(changes) > 1 else 1
    w = max(rule.window, math.ceil(rule.window_iterations / max(interval, 1)))
    if len(settled) >= 2 * w:
        recent = statistics.median(settled[-w:])
        previous = statistics.median(settled[-2 * w : -w])
        if recent >= previous:
            return {
                "rule": "plateau",
                "iteration": it,
                "delta_label": delta,
                "evidence": {
                    "median_label_change_last_window": recent,
                    "median_label_change_window_before": previous,
                    "window_refreshes": w,
                    "settled_at_iteration": changes[settled_at][0],
                    **asdict(rule),
                },
            }
    return None


def replay(history: list[dict], rule: DriftRule = DriftRule()) -> dict | None:
    """The first decision the guard would have taken along a finished run's history, with the
    index of the history entry whose state it would have kept (``kept_index``)."""
    for n in range(1, len(history) + 1):
        decision = judge(history[:n], rule)
        if decision is not None:
            keep = decision.get("restore_iteration", decision["iteration"])
            index = next(i for i, h in enumerate(history) if h["iteration"] == keep)
            return {**decision, "kept_index": index}
    return None


__all__ = [
    "LABEL_FREE_KEYS",
    "DriftRule",
    "calmest_iteration",
    "judge",
    "replay",
    "window_medians",
]
