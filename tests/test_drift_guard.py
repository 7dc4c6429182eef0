"""The label-free drift guard: synthetic histories, label independence, rollback, resume."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from tfdeepclust.data.pipeline import make_train_dataset
from tfdeepclust.methods.asc2d import ASC2D
from tfdeepclust.training.checkpointing import CheckpointEvery, ClusteringCheckpoint
from tfdeepclust.training.drift_guard import (
    LABEL_FREE_KEYS,
    DriftRule,
    calmest_iteration,
    judge,
    replay,
    window_medians,
)
from tfdeepclust.training.target_refresh import TargetRefresh

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def _history(deltas, interval=30, acc=None):
    """A refresh history: iteration 0 (the initialisation) then one entry per label change."""
    rng = np.random.default_rng(0)
    out = [{"iteration": 0, "delta_label": 1.0}]
    for i, d in enumerate(deltas, start=1):
        out.append({"iteration": i * interval, "delta_label": d})
    for e in out:
        e["acc"] = float(rng.random()) if acc is None else acc
    return out


def _first_decision(history, rule=None):
    return replay(history, rule or DriftRule())


def test_a_healthy_run_that_keeps_converging_is_never_stopped():
    deltas = list(np.geomspace(0.05, 0.0005, 120))  # falls all the way, by ~4 % per refresh
    assert _first_decision(_history(deltas)) is None


def test_a_settled_run_whose_label_change_stops_falling_stops_on_the_plateau():
    # Settles below 1 % at refresh 4, keeps falling to refresh 60, then flat at 0.4 %.
    deltas = [0.05, 0.03, 0.015, 0.009] + list(np.geomspace(0.009, 0.004, 56)) + [0.004] * 80
    d = _first_decision(_history(deltas, interval=30))
    assert d is not None and d["rule"] == "plateau"
    # Windows of 1,500 iterations (50 refreshes at T = 30): it fires once the flat stretch
    # fills the last window and enough of the one before that its median is no higher.
    assert d["evidence"]["window_refreshes"] == 50
    assert (60 + 50) * 30 < d["iteration"] <= (60 + 2 * 50) * 30
    assert d["kept_index"] == d["iteration"] // 30  # the plateau keeps the current state


def test_a_flip_after_settling_restores_the_refresh_before_it():
    deltas = [0.04, 0.02, 0.008, 0.006, 0.005, 0.004, 0.15, 0.02]
    d = _first_decision(_history(deltas, interval=140))
    assert d["rule"] == "flip" and d["iteration"] == 7 * 140
    assert d["restore_iteration"] == 6 * 140 and d["kept_index"] == 6
    assert d["delta_label"] == 0.15
    # The median of the settled refreshes before it (0.8, 0.6, 0.5, 0.4 %).
    assert d["evidence"]["median_label_change_before"] == pytest.approx(0.0055)


# Settles at 0.9 %, calmest at 0.6-0.7 %, then climbs back refresh by refresh with no single
# jump large enough to be a flip (ADEC's default run on USPS: 1 % -> 5 -> 8 -> 11 % and empty
# clusters).
RISING = [0.03, 0.009, 0.008, 0.007, 0.006, 0.006, 0.007, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035]


def test_a_label_change_that_climbs_back_after_settling_is_a_rise_to_its_calmest_point():
    history = _history(RISING, interval=30)
    d = _first_decision(history)
    assert d["rule"] == "rise" and d["iteration"] == 13 * 30
    # Settled at refresh 2 (0.9 %); the first window of 5 from there, with the lowest median
    # (0.7 %), ends at refresh 6.
    assert d["restore_iteration"] == 6 * 30 and d["kept_index"] == 6
    assert d["evidence"]["median_label_change_lowest"] == pytest.approx(0.007)
    assert d["evidence"]["median_label_change_recent"] == pytest.approx(0.025)
    assert calmest_iteration(history) == 180
    assert window_medians(history)[0] == (180, pytest.approx(0.007))
    # One refresh earlier the recent median (2 %) is still below 3x the lowest (2.1 %).
    assert replay(_history(RISING[:-1], interval=30)) is None


def test_a_settled_run_that_wanders_below_two_percent_is_no_rise():
    rng = np.random.default_rng(3)
    deltas = [0.02, 0.008] + list(rng.uniform(0.001, 0.018, 300))
    decision = _first_decision(_history(deltas, interval=140))
    assert decision is None or decision["rule"] == "plateau"


def test_a_blow_up_before_settling_is_a_flip_once_a_baseline_exists():
    """ADEC's adversarial phase on USPS (DEC-DA's embedding, interpolation fakes): 1-2 % of the
    labels per refresh, then 11.5 %; the state of the refresh before is kept."""
    deltas = [0.024, 0.016, 0.014, 0.010, 0.020, 0.115, 0.419]
    d = _first_decision(_history(deltas))
    assert d["rule"] == "flip" and d["iteration"] == 6 * 30 and d["restore_iteration"] == 5 * 30
    assert d["evidence"]["before_settling"] is True
    assert d["evidence"]["median_label_change_before"] == pytest.approx(0.016)
    # With fewer than flip_baseline refreshes before it there is no baseline yet.
    assert judge(_history([0.02, 0.02, 0.02, 0.5])) is None
    # A run that starts loud and calms down without settling is left alone.
    assert _first_decision(_history([0.08, 0.06, 0.05, 0.04, 0.03, 0.025, 0.02, 0.015])) is None


def test_a_large_change_before_settling_or_a_small_one_after_is_no_flip():
    # Never settled, and each change within 5x the median of those before it.
    assert judge(_history([0.3, 0.2, 0.25, 0.4])) is None
    assert judge(_history([0.3, 0.2, 0.25, 0.2, 0.3, 0.4])) is None
    # 1.5 % after a median of 0.5 % is three times the baseline: below the factor of 5.
    assert judge(_history([0.008, 0.005, 0.005, 0.005, 0.015])) is None
    assert judge(_history([0.008, 0.001, 0.001, 0.001, 0.015])) is None  # below flip_min 2 %


def test_refreshes_that_kept_initial_targets_do_not_count():
    """While UMAP + GMM targets are held, the label change measures the distance to those
    targets, not self-training: a large value then is no flip."""
    h = _history([0.006, 0.005, 0.004, 0.3, 0.005])
    for e in h[1:4]:
        e["kept_targets"] = True
    assert judge(h[:5]) is None


def test_the_decision_never_depends_on_labels():
    """Every history key other than LABEL_FREE_KEYS (ACC, NMI, ... from the labels) can be
    anything: the decisions along a committed run are identical with them scrambled."""
    run = json.loads((RESULTS / "asc2d_mnist_test_seed2.json").read_text())
    history = run["history"]
    rng = np.random.default_rng(1)
    scrambled = [
        {k: (v if k in LABEL_FREE_KEYS else float(rng.random())) for k, v in e.items()}
        for e in history
    ]
    stripped = [{k: v for k, v in e.items() if k in LABEL_FREE_KEYS} for e in history]
    for n in range(1, len(history) + 1):
        assert judge(history[:n]) == judge(scrambled[:n]) == judge(stripped[:n])
    # This run flipped ~10 % of its labels at iteration 1,140 after settling near 0.2 %.
    d = replay(history)
    assert (d["rule"], d["iteration"]) == ("flip", 1140)
    assert history[d["kept_index"]]["iteration"] == 1110


def _tiny(x, k=3):
    m = ASC2D(x.shape[1:], k, filters=(4, 4, 4), disc_hidden=(8,))
    m.compile()
    m.init_centroids(x, seed=0, n_init=2)
    m.attach_targets(len(x))
    return m


class _Scramble(keras.callbacks.Callback):
    """Permutes the centroids after iteration ``at``: the next refresh sees a label flip."""

    def __init__(self, model, at):
        super().__init__()
        self.m, self.at, self.saved = model, at, {}

    def on_train_batch_end(self, batch, logs=None):
        it = int(self.m.target_store.iteration.numpy())
        if it % 4 == 0:  # after the refresh of this step: the state a rollback must restore
            self.saved[it] = [w.copy() for w in self.m.get_weights()]
        if it == self.at:
            c = self.m.clustering.centroids.numpy()
            self.m.clustering.set_centroids(np.roll(c, 1, axis=0))


def _rule():
    # Settled from the first measured refresh; no plateau within the run; any 20 % change
    # that is twice the baseline is a flip.
    return DriftRule(settle=1.0, window=100, flip_min=0.2, flip_factor=2.0)


def test_a_live_flip_restores_the_last_good_state_checkpoints_it_and_a_rerun_reports_it(
    tmp_path,
):
    x = np.random.default_rng(0).random((60, 8, 8, 1)).astype("float32")
    m = _tiny(x)
    ckpt = ClusteringCheckpoint(tmp_path / "ckpt", m)
    # Random images: the tiny model collapses, which is not under test here.
    cb = TargetRefresh(x, 4, 0.0, 40, verbose=0, collapse_patience=0, drift_guard=_rule())
    scramble = _Scramble(m, at=9)
    save = CheckpointEvery(ckpt, 4, cb)
    ds = make_train_dataset(x, 15, 0)
    m.fit(ds, epochs=10, steps_per_epoch=4, callbacks=[cb, save, scramble], verbose=0)
    assert cb.stop_reason_ == "drift"
    d = cb.guard_decision_
    assert d["rule"] == "flip" and d["iteration"] == 12 and d["restored_iteration"] == 8
    assert d["evidence"]["flip_refresh"]["iteration"] == 12
    assert int(m.target_store.iteration.numpy()) == 8 == cb.n_iter_
    for a, b in zip(m.get_weights(), scramble.saved[8], strict=True):
        np.testing.assert_array_equal(a, b)
    assert cb.history_[-1]["iteration"] == 8 and cb.history_[-1]["drift_guard"] == d

    # A rerun restores the rolled-back checkpoint, reports the stop and trains no more ...
    m2 = _tiny(x)
    it, history = ClusteringCheckpoint(tmp_path / "ckpt", m2).restore()
    assert it == 8 and history[-1]["drift_guard"]["rule"] == "flip"
    again = TargetRefresh(
        x, 4, 0.0, 40, verbose=0, history=history, collapse_patience=0, drift_guard=_rule()
    )
    again.set_model(m2)
    assert again.finished_reason() == "drift"
    again.on_train_begin()
    assert again.stop_reason_ == "drift" and again.guard_decision_ == d
    # ... unless the guard is off: then it trains on from there, as the papers do.
    off = TargetRefresh(
        x, 4, 0.0, 40, verbose=0, history=history, collapse_patience=0, drift_guard=None
    )
    off.set_model(m2)
    assert off.finished_reason() is None
    m2.fit(ds, epochs=10, steps_per_epoch=4, callbacks=[off], verbose=0)
    assert off.stop_reason_ == "maxiter" and int(m2.target_store.iteration.numpy()) == 40


def test_without_the_guard_the_flip_goes_on_record_and_training_continues():
    x = np.random.default_rng(0).random((60, 8, 8, 1)).astype("float32")
    m = _tiny(x)
    cb = TargetRefresh(x, 4, tol=0.0, maxiter=20, verbose=0, collapse_patience=0)
    m.fit(
        make_train_dataset(x, 15, 0),
        epochs=5,
        steps_per_epoch=4,
        callbacks=[cb, _Scramble(m, at=9)],
        verbose=0,
    )
    assert cb.stop_reason_ == "maxiter" and cb.guard_decision_ is None
    assert cb.history_[3]["iteration"] == 12 and cb.history_[3]["delta_label"] > 0.2


class _Scripted(TargetRefresh):
    """TargetRefresh whose label changes after iteration 0 follow a script (the model trains)."""

    def __init__(self, *args, script, **kwargs):
        super().__init__(*args, **kwargs)
        self.script = script

    def refresh(self, keep_targets=False):
        delta = super().refresh(keep_targets)
        it = self.history_[-1]["iteration"]
        if it:
            delta = self.history_[-1]["delta_label"] = self.script[it // self.update_interval - 1]
        return delta


class _Saved(keras.callbacks.Callback):
    """The weights after each step's refresh, by iteration."""

    def __init__(self, model):
        super().__init__()
        self.m, self.saved = model, {}

    def on_train_batch_end(self, batch, logs=None):
        it = int(self.m.target_store.iteration.numpy())
        self.saved.setdefault(it, [w.copy() for w in self.m.get_weights()])


def test_a_live_rise_restores_the_calmest_refresh_and_records_what_it_discarded():
    x = np.random.default_rng(0).random((60, 8, 8, 1)).astype("float32")
    m = _tiny(x)
    cb = _Scripted(
        x, 4, 0.0, 80, verbose=0, collapse_patience=0, drift_guard=DriftRule(), script=RISING
    )
    saved = _Saved(m)
    m.fit(
        make_train_dataset(x, 15, 0), epochs=20, steps_per_epoch=4, callbacks=[cb, saved], verbose=0
    )
    assert cb.stop_reason_ == "drift"
    d = cb.guard_decision_
    assert (d["rule"], d["iteration"], d["restored_iteration"]) == ("rise", 52, 24)
    assert int(m.target_store.iteration.numpy()) == 24 == cb.n_iter_
    for a, b in zip(m.get_weights(), saved.saved[24], strict=True):
        np.testing.assert_array_equal(a, b)
    assert cb.history_[-1]["iteration"] == 24 and cb.history_[-1]["drift_guard"] == d
    assert d["evidence"]["rise_refresh"]["iteration"] == 52
    assert [h["iteration"] for h in d["evidence"]["discarded_refreshes"]] == list(range(28, 52, 4))
