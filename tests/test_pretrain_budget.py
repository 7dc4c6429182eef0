"""benchmarks/pretrain_budget.py: a pretraining curve that spans several time-limited jobs."""

import json
import shutil

import numpy as np
import pytest
from helpers import REPO, run_python

from tfdeepclust.training.time_limit import EXIT_TIME_LIMIT


def _command(tmp_path, *extra) -> list:
    """The benchmark on 60 blobs (4 steps per epoch), evaluated at 4, 8 and 12 iterations."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    x = (rng.normal(size=(60, 6)) + 4.0 * np.eye(3, 6)[y]).astype("float32")
    np.savez(tmp_path / "blobs.npz", x=x, y=y)
    return [
        REPO / "benchmarks" / "pretrain_budget.py",
        *("--method", "adec", "--eval-at", "4", "8", "12"),
        *("--snapshot-dir", tmp_path / "snaps", "--out", tmp_path / "curve.json", *extra),
        "--",
        *("--dataset", f"npz:{tmp_path / 'blobs.npz'}", "--batch-size", "16", "--seed", "0"),
        *("--hidden", "16", "16", "--latent-dim", "2", "--kmeans-n-init", "2", "--verbose", "0"),
    ]


@pytest.mark.slow
def test_a_time_limited_curve_continues_where_it_stopped(tmp_path):
    out = tmp_path / "curve.json"
    cmd = _command(tmp_path)
    # 4 steps per epoch; a 1 s budget stops after each process's first epoch.
    first = run_python(*cmd, "--time-limit", "1")
    assert first.returncode == EXIT_TIME_LIMIT, first.stdout[-2000:] + first.stderr[-2000:]
    assert "rerun the same command to continue from epoch 2" in first.stdout
    stopped = json.loads(out.read_text())
    assert [r["iteration"] for r in stopped["curve"]] == [4]
    # The time to the stop is kept, so the continuation counts on from it.
    assert stopped["stopped_at"]["train_time_s"] >= stopped["curve"][0]["train_time_s"]
    for _ in range(4):
        proc = run_python(*cmd, "--time-limit", "1")
        if proc.returncode == 0:
            break
        assert proc.returncode == EXIT_TIME_LIMIT, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.returncode == 0
    curve = json.loads(out.read_text())["curve"]
    assert [r["iteration"] for r in curve] == [4, 8, 12]  # each evaluated once, in order
    assert all(0 <= r["acc"] <= 1 for r in curve)
    assert len(list((tmp_path / "snaps").glob("*_it12.weights.h5"))) == 1
    times = [r["train_time_s"] for r in curve]
    assert times == sorted(times)  # training time accumulates across the jobs
    assert times[1] >= stopped["stopped_at"]["train_time_s"]
    assert json.loads(out.read_text())["stopped_at"] is None
    # Finished: the cached pretraining makes a rerun a no-op that keeps the curve.
    again = run_python(*cmd)
    assert again.returncode == 0 and json.loads(out.read_text())["curve"] == curve


@pytest.mark.slow
def test_another_machine_continues_the_curve_from_the_packed_backup(tmp_path):
    """--portable: the stop packs the backup; without the snapshot folder (a new machine) the
    same command continues from the packed epoch and records that it did."""
    out, packed = tmp_path / "curve.json", tmp_path / "committed" / "backup.npz"
    cmd = _command(tmp_path, "--portable", packed)
    first = run_python(*cmd, "--time-limit", "1")
    assert first.returncode == EXIT_TIME_LIMIT, first.stdout[-2000:] + first.stderr[-2000:]
    assert packed.is_file() and "packed the backup" in first.stdout
    shutil.rmtree(tmp_path / "snaps")  # the machine, its backup and snapshots are gone
    for _ in range(4):
        proc = run_python(*cmd, "--time-limit", "1")
        assert proc.returncode in (0, EXIT_TIME_LIMIT), proc.stdout[-2000:] + proc.stderr[-2000:]
        if proc.returncode == 0:
            break
    assert proc.returncode == 0
    result = json.loads(out.read_text())
    assert [r["iteration"] for r in result["curve"]] == [4, 8, 12]
    assert result["continued_from_portable"] == [{"epoch": 1, "file": str(packed)}]
