"""benchmarks/drift_replay.py: a replayed run against a run the guard stopped live."""

import json

import pytest
from helpers import load_benchmark

from tfdeepclust.training.drift_guard import DriftRule


@pytest.fixture(scope="module")
def drift_replay():
    return load_benchmark("drift_replay")


def _run(deltas, accs, convergence):
    history = [
        {"iteration": 30 * i, "delta_label": d, "acc": a}
        for i, (d, a) in enumerate(zip(deltas, accs, strict=True))
    ]
    final = convergence.pop("final_acc", accs[-1])
    return {
        "method": "asc2d",
        "history": history,
        "metrics": {"acc": final},
        "convergence": convergence,
    }


SETTLED = [1.0, 0.05, 0.008, 0.004, 0.004, 0.004, 0.004]


def test_a_run_without_the_guard_is_replayed(drift_replay, tmp_path):
    # A flip of 6 % after settling: the guard would keep the refresh before it.
    run = _run(
        SETTLED + [0.06, 0.004], [0.5, 0.8, 0.9, 0.91, 0.92, 0.93, 0.94, 0.7, 0.71], {"n_iter": 240}
    )
    path = tmp_path / "replayed.json"
    path.write_text(json.dumps(run))
    row = drift_replay.replay_run(path, DriftRule())
    assert not row["live"] and row["guard_rule"] == "flip" and row["guard_iteration"] == 210
    assert row["kept_iteration"] == 180 and row["guard_acc"] == 0.94
    assert row["change"] == pytest.approx(0.94 - 0.71)


def test_a_run_the_guard_stopped_live_reports_its_own_decision(drift_replay, tmp_path):
    live = {
        "rule": "flip",
        "iteration": 210,
        "restore_iteration": 180,
        "evidence": {"flip_refresh": {"iteration": 210, "delta_label": 0.06, "acc": 0.7}},
    }
    accs = [0.5, 0.8, 0.9, 0.91, 0.92, 0.93, 0.94]
    run = _run(SETTLED, accs, {"n_iter": 180, "drift_guard": live})
    path = tmp_path / "live.json"
    path.write_text(json.dumps(run))
    row = drift_replay.replay_run(path, DriftRule())
    assert row["live"] and row["guard_rule"] == "flip" and row["guard_iteration"] == 210
    assert row["kept_iteration"] == 180 and row["guard_acc"] == 0.94 and row["change"] == 0.0
    assert row["discarded_acc"] == 0.7 and not row["too_early"]
