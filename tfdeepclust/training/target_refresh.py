"""Full-data target refresh every T iterations and the label-change stop
(docs/methods.md §1.2, §1.4).

The target P lives in a non-trainable ``[N, K]`` variable; the compiled ``train_step`` gathers
its rows by ``sample_id``. A Keras callback counts global steps, recomputes Q on all clean
samples every ``update_interval`` steps (outside the compiled step, docs/platform.md §2.4),
assigns P and stops when the fraction of changed labels falls below ``tol``, or when one
cluster has held >= 90 % of the samples for ``collapse_patience`` refreshes in a row
(docs/platform.md §7.6).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from tfdeepclust.config import DEFAULT_COLLAPSE_PATIENCE
from tfdeepclust.distribute import agree_with_chief
from tfdeepclust.losses.dec import target_distribution
from tfdeepclust.metrics import label_free_metrics, supervised_metrics
from tfdeepclust.training.drift_guard import DriftRule, calmest_iteration, judge
from tfdeepclust.training.progress import RateClock, print_every

# TargetStore.stopped values: why a finished run stopped (a resumed run reports it, and does
# not train on unless the rule that stopped it was relaxed).
RUNNING, STOPPED_TOL, STOPPED_COLLAPSED, STOPPED_PLATEAU, STOPPED_FLIP = 0, 1, 2, 3, 4
# The drift guard's stops (training/drift_guard.py): its rule name -> stop reason and flag.
GUARD_STOPS = {
    "plateau": ("plateau", STOPPED_PLATEAU),
    "flip": ("drift", STOPPED_FLIP),
    "rise": ("drift", STOPPED_FLIP),  # a slower drift: the same stop, the same resume rule
}
# Refresh figures written as TensorBoard scalars (``refresh/<key>``) when a writer is set.
SUMMARY_KEYS = (
    "delta_label",
    "acc",
    "nmi",
    "ari",
    "size_entropy",
    "assignment_entropy",
    "smallest_cluster_frac",
    "largest_cluster_frac",
)


class TargetStore(tf.Module):
    """Checkpointable state of the self-training loop.

    Attributes:
        p: ``[N, K]`` target distribution, gathered by sample id in ``train_step``.
        labels_prev: ``[N]`` labels at the last refresh (for the label-change ratio).
        iteration: Global clustering iterations done (survives resume).
        stopped: ``STOPPED_TOL`` after the tol stop, ``STOPPED_COLLAPSED`` after the collapse
            stop, else ``RUNNING``.
    """

    def __init__(self, n_samples: int, n_clusters: int):
        super().__init__(name="target_store")
        self.p = tf.Variable(
            tf.fill([n_samples, n_clusters], 1.0 / n_clusters), trainable=False, name="p"
        )
        self.labels_prev = tf.Variable(
            tf.fill([n_samples], tf.constant(-1, tf.int64)), trainable=False, name="labels_prev"
        )
        self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration")
        # Set once the tol (or collapse) stop fired: a resumed converged run does not train on (a
        # run stopped by maxiter continues when resumed with a larger maxiter).
        self.stopped = tf.Variable(0, dtype=tf.int64, trainable=False, name="stopped")


class TargetRefresh(keras.callbacks.Callback):
    """Refreshes the target on the full data set and applies the tol / maxiter stops.

    The model must provide ``soft_assign(x) -> Q [N, K]`` (clean forward pass) and a
    ``target_store`` attribute (:class:`TargetStore`).

    Args:
        x: All clean (unaugmented) samples in canonical (sample id) order.
        update_interval: T, iterations between refreshes.
        tol: Stop when the label-change ratio after a refresh is below ``tol`` (not at iteration 0).
        maxiter: Stop after this many clustering iterations in total.
        y: Optional labels, only to log ACC/NMI at refreshes (never used for decisions).
        target_fn: Q -> P; the DEC target by default.
        verbose: 2 prints a line per refresh, 1 about ten lines per run (with the ETA), 0 none.
        history: Refresh history of the run so far (when resuming).
        collapse_patience: Stop after this many refreshes in a row (not counting iteration 0,
            the initialisation) at which one cluster holds >= 90 % of the samples; 0 never.
        keep_initial_targets: Iterations during which targets the initialisation put in the
            store (UMAP + GMM responsibilities) stay the targets; refreshes before then record
            Q's figures only. Targets computed from Q at iteration 0 are never held.
        drift_guard: The label-free guard of ``training/drift_guard.py``: stop on a plateau
            of the label change (stop reason ``plateau``), or on a label flip, restoring the
            state of the refresh before it (stop reason ``drift``). None: off (the papers').

    After training: ``converged_``, ``stop_reason_`` (``"tol"``, ``"collapsed"``, ``"plateau"``,
    ``"drift"``, ``"maxiter"`` or ``None``), ``n_iter_``, ``history_`` (one dict per refresh;
    the guard's decision is in the last entry's ``drift_guard``) and ``guard_decision_``.
    """

    def __init__(
        self,
        x: np.ndarray,
        update_interval: int,
        tol: float,
        maxiter: int,
        y: np.ndarray | None = None,
        target_fn: Callable[[np.ndarray], np.ndarray] = target_distribution,
        verbose: int = 1,
        history: list[dict] | None = None,
        collapse_patience: int = DEFAULT_COLLAPSE_PATIENCE,
        keep_initial_targets: int = 0,
        drift_guard: DriftRule | None = None,
    ):
        super().__init__()
        self.keep_initial_targets = int(keep_initial_targets)
        self.drift_guard = drift_guard
        self.guard_decision_: dict | None = None
        self._good_state = None  # the state at the last refresh the guard accepted
        self._calm_state = None  # the state at the end of the calmest window (a rise's restore)
        if update_interval < 1:
            raise ValueError(f"update_interval must be >= 1, got {update_interval}")
        if collapse_patience < 0:
            raise ValueError(f"collapse_patience must be >= 0, got {collapse_patience}")
        self.collapse_patience = int(collapse_patience)
        self.x, self.y = x, y
        self.update_interval, self.tol, self.maxiter = int(update_interval), float(tol), maxiter
        self.target_fn, self.verbose = target_fn, verbose
        self.converged_ = False
        self.stop_reason_: str | None = None
        self.n_iter_ = 0
        self.history_: list[dict] = list(history or [])
        self.refresh_time_s = 0.0
        # Training wall time at each refresh, continued across resumes (ACC-vs-time curves).
        self._time_offset = (
            float(self.history_[-1].get("wall_time_s", 0.0)) if self.history_ else 0.0
        )
        self._t_begin = time.perf_counter()
        self._clock: RateClock | None = None

    @property
    def store(self) -> TargetStore:
        return self.model.target_store

    def refresh(self, keep_targets: bool = False) -> float:
        """Recomputes Q and P on all samples; returns the label-change ratio (1.0 at first).

        ``keep_targets`` records Q's figures but leaves P and the reference labels as they are
        (targets an initialisation put in the store).
        """
        t0 = time.perf_counter()
        # Every worker of a multi-worker run takes the chief's Q, so all stop at the same refresh.
        q = agree_with_chief(self.model.soft_assign(self.x), self.model.distribute_strategy)
        labels = q.argmax(axis=1)
        prev = self.store.labels_prev.numpy()
        delta = 1.0 if (prev < 0).any() else float(np.mean(labels != prev))
        if not keep_targets:
            self.store.p.assign(self.target_fn(q).astype(np.float32))
            self.store.labels_prev.assign(labels)
        self.refresh_time_s += time.perf_counter() - t0
        it = int(self.store.iteration.numpy())
        # Cluster sizes, smallest / largest fraction, size and assignment entropy, degeneracy
        # (the label-free figures of the final results, minus the costly silhouette).
        figures = label_free_metrics(labels, q.shape[1], proba=q)
        del figures["silhouette"]
        entry = {
            "iteration": it,
            "delta_label": delta,
            **({"kept_targets": True} if keep_targets else {}),
            **figures,
            "wall_time_s": self._time_offset + time.perf_counter() - self._t_begin,
        }
        if self.y is not None:
            entry.update(supervised_metrics(self.y, labels))
        self.history_.append(entry)
        # To the default summary writer, when the caller set one (the runner's --tensorboard).
        for key in SUMMARY_KEYS:
            if entry.get(key) is not None:
                tf.summary.scalar(f"refresh/{key}", entry[key], step=it)
        if entry["degenerate"]:
            print(
                f"[warn] iteration {it}: degenerate clustering ({entry['degenerate']}: "
                f"sizes {entry['cluster_sizes']})",
                flush=True,
            )
        self._print_refresh(entry)
        return delta

    def _print_refresh(self, entry: dict) -> None:
        """Every refresh at verbosity 2; at 1, about ten lines per run with the pace and ETA."""
        it = entry["iteration"]
        if self._clock is None:
            self._clock = RateClock(it, self.maxiter)
        every = print_every(math.ceil(self.maxiter / self.update_interval))  # in refreshes
        due = self.verbose == 1 and (it // self.update_interval) % every == 0
        if self.verbose < 2 and not due:
            return
        extra = "".join(f" {k}={entry[k]:.4f}" for k in ("acc", "nmi") if k in entry)
        pace = ""
        if (per := self._clock.seconds_per_unit(it)) is not None:
            pace = f"  ({per:.3f} s/iter, ETA at most {self._clock.eta(it)})"
        print(
            f"[refresh] iter {it}/{self.maxiter}: delta_label={entry['delta_label']:.5f}"
            f"{extra}{pace}",
            flush=True,
        )

    def on_train_begin(self, logs=None):
        self._t_begin = time.perf_counter()
        it = int(self.store.iteration.numpy())
        self.n_iter_ = it
        finished = self.finished_reason()
        if finished == "tol":
            # A resumed run that had converged: report it and train no more.
            self.converged_ = True
            self._stop("tol")
        elif finished is not None:  # collapsed, or the drift guard's plateau / drift
            self.guard_decision_ = next(
                (h["drift_guard"] for h in reversed(self.history_) if "drift_guard" in h), None
            )
            self._stop(finished)
        elif it >= self.maxiter:
            self._stop("maxiter")
        elif int(self.store.labels_prev.numpy()[0]) < 0:
            self.refresh()
        elif it == 0:
            # Targets set by the initialisation (UMAP + GMM) are the first interval's targets.
            self.refresh(keep_targets=True)
        self._keep_good_state()

    def on_train_batch_end(self, batch, logs=None):
        it = int(self.store.iteration.assign_add(1).numpy())
        self.n_iter_ = it
        if it >= self.maxiter:
            self._stop("maxiter")
        elif it % self.update_interval == 0:
            delta = self.refresh(keep_targets=self.holding_initial_targets(it))
            if delta < self.tol:
                self.converged_ = True
                self._stop("tol")
            elif 0 < self.collapse_patience <= self.collapses_in_a_row():
                self._stop("collapsed")
            elif self.drift_guard and (decision := judge(self.history_, self.drift_guard)):
                self._guard_stop(decision)
            else:
                self._keep_good_state()

    def _keep_good_state(self) -> None:
        """Copies what a flip would restore (all weights and the target store), and what a rise
        would when this refresh ends the calmest window so far."""
        if self.drift_guard is None:
            return
        store = self.store
        self._good_state = {
            "weights": [w.copy() for w in self.model.get_weights()],
            "p": store.p.numpy(),
            "labels_prev": store.labels_prev.numpy(),
            "iteration": int(store.iteration.numpy()),
        }
        if calmest_iteration(self.history_, self.drift_guard) == self._good_state["iteration"]:
            self._calm_state = self._good_state

    def _guard_stop(self, decision: dict) -> None:
        """Ends the run on the guard's decision; a flip first restores the last good state, a
        rise the state at the end of its calmest window."""
        reason, _ = GUARD_STOPS[decision["rule"]]
        # A flip restores the refresh before it; a rise its calmest refresh, if this process
        # kept it (a run resumed after that refresh stops where it is).
        good = {"flip": self._good_state, "rise": self._calm_state}.get(decision["rule"])
        if (
            decision["rule"] == "rise"
            and good
            and good["iteration"] != decision["restore_iteration"]
        ):
            good = None
        if good is not None:
            self.model.set_weights(good["weights"])
            self.store.p.assign(good["p"])
            self.store.labels_prev.assign(good["labels_prev"])
            self.store.iteration.assign(good["iteration"])
            self.n_iter_ = good["iteration"]
            decision = {**decision, "restored_iteration": good["iteration"]}
            # The history ends with the restored state; the later refreshes are the evidence.
            later = [h for h in self.history_ if h["iteration"] > good["iteration"]]
            self.history_[:] = [h for h in self.history_ if h["iteration"] <= good["iteration"]]
            key = f"{decision['rule']}_refresh"  # flip_refresh / rise_refresh
            decision["evidence"] = {**decision["evidence"], key: later[-1]}
            if len(later) > 1:
                decision["evidence"]["discarded_refreshes"] = later[:-1]
        self.guard_decision_ = decision
        self.history_[-1]["drift_guard"] = decision
        if self.verbose:
            print(
                f"[guard] {decision['rule']} at iteration {decision['iteration']}: label change "
                f"{decision['delta_label']:.4f}"
                + (
                    f"; restored the state of iteration {decision['restored_iteration']}"
                    if "restored_iteration" in decision
                    else ""
                ),
                flush=True,
            )
        self._stop(reason)

    def holding_initial_targets(self, iteration: int) -> bool:
        """Whether the initialisation's targets are still the targets at ``iteration`` (the
        history's iteration-0 entry says whether there were any; it survives resume)."""
        seeded = bool(self.history_) and self.history_[0].get("kept_targets", False)
        return seeded and iteration < self.keep_initial_targets

    def finished_reason(self) -> str | None:
        """``"tol"``, ``"collapsed"``, ``"plateau"`` or ``"drift"`` when a resumed run had
        stopped by a rule that still holds.

        A run stopped on collapse trains on when resumed with a larger (or zero) patience, one
        stopped by the drift guard when resumed with the guard off.
        """
        stopped = int(self.store.stopped.numpy())
        if stopped == STOPPED_TOL:
            return "tol"
        for reason, flag in GUARD_STOPS.values():
            if stopped == flag:
                if self.drift_guard is not None:
                    return reason
                self.store.stopped.assign(RUNNING)  # --drift-guard off: train on
        if stopped == STOPPED_COLLAPSED:
            if 0 < self.collapse_patience <= self.collapses_in_a_row():
                return "collapsed"
            self.store.stopped.assign(RUNNING)
        return None

    def collapses_in_a_row(self) -> int:
        """Refreshes at the end of the history (after iteration 0) with one cluster >= 90 %."""
        n = 0
        for entry in reversed(self.history_):
            if entry["iteration"] == 0 or entry.get("degenerate") != "collapsed":
                break
            n += 1
        return n

    def _stop(self, reason: str) -> None:
        self.stop_reason_ = reason
        flags = {"tol": STOPPED_TOL, "collapsed": STOPPED_COLLAPSED, **dict(GUARD_STOPS.values())}
        if reason in flags:
            self.store.stopped.assign(flags[reason])
        self.model.stop_training = True
        if self.verbose:
            print(f"[stop] {reason} at iteration {int(self.store.iteration.numpy())}", flush=True)
