"""kill -9 in the clustering phase, rerun the same command: it resumes and finishes."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import NARROW_ASC2D, run_python

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_killed_run_resumes_from_its_checkpoint(tmp_path):
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        str(REPO / "train_asc2d.py"),
        "--subset",
        "800",
        "--pretrain-epochs",
        "2",
        "--maxiter",
        "80",
        "--update-interval",
        "10",
        "--tol",
        "0",
        "--output-dir",
        str(out),
        "--pretrain-cache-dir",
        str(tmp_path / "cache"),
        "--no-export",
        "--verbose",
        "0",
        *NARROW_ASC2D,
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    ckpt_dir = out / "checkpoints"
    deadline = time.time() + 400
    reached = None
    while time.time() < deadline and proc.poll() is None:
        index = ckpt_dir / "checkpoint"
        if index.is_file():
            nums = [int(n) for n in re.findall(r"ckpt-(\d+)", index.read_text())]
            if nums and max(nums) >= 20:
                reached = max(nums)
                break
        time.sleep(0.2)
    assert reached is not None, "no checkpoint at iteration >= 20 before the deadline"
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9, mid-run
    proc.wait()
    assert not (out / "results.json").exists()

    rerun = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    m = re.search(r"\[resume\] continuing from the checkpoint at iteration (\d+)", rerun.stdout)
    assert m, rerun.stdout[-3000:]
    resumed = int(m.group(1))
    assert 20 <= resumed < 80 and resumed % 10 == 0
    res = json.loads((out / "results.json").read_text())
    assert res["convergence"]["resumed_from_iteration"] == resumed
    assert res["convergence"]["n_iter"] == 80 and res["convergence"]["stop_reason"] == "maxiter"
    # The refresh history spans the whole run, before and after the kill.
    iterations = [h["iteration"] for h in res["history"]]
    assert iterations[0] == 0 and iterations[-1] == 70 and resumed in iterations


def test_checkpoint_of_another_configuration_is_not_resumed(tmp_path):
    out = tmp_path / "out"
    (out / "checkpoints").mkdir(parents=True)
    (out / "run_state.json").write_text(json.dumps({"fingerprint": "other", "phase": "x"}))
    # A checkpoint index pointing at a file makes the folder look like a checkpoint folder.
    (out / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-10"\n')
    proc = run_python(
        str(REPO / "train_asc2d.py"),
        "--quick",
        "--subset",
        "300",
        "--output-dir",
        str(out),
        "--no-export",
        "--pretrain-cache-dir",
        str(tmp_path / "c"),
        *NARROW_ASC2D,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "different data or settings" in proc.stdout and "--fresh" in proc.stdout
    assert (out / "checkpoints" / "checkpoint").is_file()  # nothing deleted


def test_default_output_dir_moves_foreign_checkpoints_aside(tmp_path):
    out = tmp_path / "runs" / "asc2d_usps_seed0"
    (out / "checkpoints").mkdir(parents=True)
    (out / "run_state.json").write_text(json.dumps({"fingerprint": "other", "phase": "x"}))
    (out / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-10"\n')
    proc = run_python(
        str(REPO / "train_asc2d.py"),
        "--quick",
        "--subset",
        "300",
        "--no-export",
        "--pretrain-cache-dir",
        str(tmp_path / "c"),
        "--verbose",
        "0",
        *NARROW_ASC2D,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "starting fresh" in proc.stdout
    aside = [p for p in out.iterdir() if p.name.startswith("checkpoints.old-")]
    assert len(aside) == 1 and (aside[0] / "checkpoint").is_file()  # kept, not deleted
    assert (out / "results.json").is_file()


def test_killed_pretraining_resumes_from_its_backup_and_keeps_its_wall_time(tmp_path):
    import keras
    import numpy as np

    from tfdeepclust.training.pretrain import pretrain_autoencoder

    x = np.random.default_rng(0).random((64, 8)).astype("float32")
    cache = tmp_path / "ae.weights.h5"
    ledger = tmp_path / "ae.weights.h5.time.json"

    def networks():
        keras.utils.set_random_seed(0)
        x_in, z_in = keras.Input((8,)), keras.Input((3,))
        return (
            keras.Model(x_in, keras.layers.Dense(3)(x_in)),
            keras.Model(z_in, keras.layers.Dense(8)(z_in)),
        )

    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("killed")

    class Record(keras.callbacks.Callback):
        epochs: list = []

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append(epoch)

    kw = dict(epochs=6, batch_size=16, learning_rate=1e-2, seed=0, cache_path=cache, verbose=0)
    with pytest.raises(RuntimeError, match="killed"):
        pretrain_autoencoder(*networks(), x, callbacks=[Kill()], **kw)
    assert not cache.exists() and (tmp_path / "ae.weights.h5.backup").is_dir()
    first = json.loads(ledger.read_text())
    assert first["epochs_done"] == 3 and first["processes"] == 1 and first["elapsed_s"] > 0

    res = pretrain_autoencoder(*networks(), x, callbacks=[Record()], **kw)
    assert Record.epochs == [3, 4, 5]  # resumed after the last finished epoch
    assert res["resumed_at_epoch"] == 3 and res["processes"] == 2
    assert res["wall_time_total_s"] >= first["elapsed_s"] + res["wall_time_s"] - 1e-6
    assert cache.is_file() and not ledger.exists()
    assert not (tmp_path / "ae.weights.h5.backup").exists()
