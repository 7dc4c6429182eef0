"""tf.distribute: the same step on 1 device and on 2 replicas, and the scripts under strategies."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO, run_python

MIRRORED_CASES = (
    "asc2d",
    "adec",
    "adec_dec",
    "adec_idec",
    "acai_pretrain",
    "dfvc",
    "dfvc_subheads",
)


def test_reduction_helpers_are_the_identity_outside_a_replica_context():
    import tensorflow as tf

    from tfdeepclust.losses import reduction as r

    x = tf.constant(np.arange(12, dtype="float32").reshape(6, 2))
    assert r.num_replicas() == 1 and r.replica_id() == 0
    assert r.gather_global(x) is x and r.local_rows(x, 3) is x
    assert float(r.replica_share(tf.constant(3.0))) == 3.0
    assert float(r.global_batch_mean(tf.constant([1.0, 2.0, 6.0]))) == 3.0
    assert float(r.on_global_batch(lambda t: tf.reduce_sum(t), x)) == 66.0
    # Inside a strategy scope but outside its step (a callback): still one whole batch.
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        assert r.num_replicas() == 1


@pytest.mark.slow
def test_one_step_on_two_replicas_equals_one_device_for_every_method():
    """Global batch 2b on 2 logical CPUs vs 2b on one device: same losses, same weights after
    the step (each optimizer's update included), same predictions."""
    proc = run_python(REPO / "tests" / "mirrored_equivalence.py", cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = [line[7:] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    results = {r["case"]: r for r in map(json.loads, lines)}
    assert set(results) == set(MIRRORED_CASES)
    for name, r in results.items():
        assert r["replicas"] == 2, name
        assert set(r["losses_default"]) == set(r["losses_mirrored"]), name
        for k, v in r["losses_default"].items():
            assert r["losses_mirrored"][k] == pytest.approx(v, rel=1e-5, abs=1e-5), (name, k)
        # The step moved the weights, and both strategies moved them the same way.
        # Measured on AVX-512 and oneDNN on / off: relative step difference <= 2.1e-4 (DFVC, a
        # deep conv net with batch norm), largest single-weight difference <= 0.12 % of the
        # largest update. A wrong reduction (a replica's share counted twice, one replica's
        # gradient alone) moves the step by tens of percent.
        assert r["weights_max_abs_update"] > 1e-5, name
        assert r["update_rel_l2_diff"] < 2e-3, name
        assert r["weights_max_abs_diff"] < 0.01 * r["weights_max_abs_update"], name
        if r["predict_max_abs_diff"] is not None:
            assert r["predict_max_abs_diff"] < 1e-5, name
    # Replica 0's array reaches every replica unchanged, NaN included (what the multiworker
    # run relies on for its k-means centres and target refreshes).
    (line,) = [line[10:] for line in proc.stdout.splitlines() if line.startswith("BROADCAST ")]
    assert json.loads(line) == {"n": 2, "all_first": True, "first": [[-99.0, -1.5], [2.0, 3.0]]}


def test_agree_with_chief_is_a_no_op_outside_multiworker():
    import tensorflow as tf

    from tfdeepclust.distribute import agree_with_chief

    q = np.random.default_rng(0).random((5, 3))
    assert agree_with_chief(q) is q
    assert agree_with_chief(q, tf.distribute.MirroredStrategy(["/cpu:0"])) is q


def test_a_non_chief_worker_writes_only_to_its_temp_folder(tmp_path, monkeypatch):
    import tensorflow as tf

    from tfdeepclust import distribute

    (tmp_path / "out" / "checkpoints").mkdir(parents=True)
    (tmp_path / "out" / "checkpoints" / "ckpt-10.index").write_text("x")
    assert distribute.WorkerOutputs(tf.distribute.get_strategy()).path(tmp_path) == tmp_path

    monkeypatch.setattr(distribute, "is_chief", lambda strategy=None: False)
    worker = distribute.WorkerOutputs(tf.distribute.get_strategy())
    out = worker.path(tmp_path / "out", copy_existing=True)
    assert out != tmp_path / "out" and "tfdeepclust_worker_" in str(out)
    assert (out / "checkpoints" / "ckpt-10.index").read_text() == "x"  # resumes like the chief
    assert not worker.path(tmp_path / "models").exists()
    worker.cleanup()
    assert not out.exists()
    assert (tmp_path / "out" / "checkpoints" / "ckpt-10.index").exists()  # chief's untouched


def test_strategy_errors_are_clear(monkeypatch, capsys):
    from tfdeepclust.distribute import StrategyError, make_strategy
    from tfdeepclust.entry import main
    from tfdeepclust.recipes.asc2d import RECIPE

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(StrategyError, match="TF_CONFIG"):
        make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(StrategyError, match="not valid JSON"):
        make_strategy("multiworker")
    with pytest.raises(StrategyError, match="default, mirrored, multiworker"):
        make_strategy("horovod")
    assert main(RECIPE, ["--tune", "--strategy", "mirrored"]) == 2
    assert "default strategy" in capsys.readouterr().out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_local_workers_train_together_and_only_the_chief_writes(tmp_path):
    """A 2-worker MultiWorkerMirroredStrategy cluster on localhost ports (TF_CONFIG)."""
    cluster = {"worker": [f"localhost:{_free_port()}" for _ in range(2)]}
    # ADEC on Mice Protein: its FR/FD diagnostics also run eager replica code on every worker.
    args = [
        str(REPO / "train_adec.py"),
        "--dataset",
        "mice_protein",
        "--quick",
        "--strategy",
        "multiworker",
        "--output-dir",
        "out",
        "--export-dir",
        "models",
        "--pretrain-cache-dir",
        "cache",
        "--verbose",
        "0",
        "--no-pictures",
    ]
    procs = []
    for index in range(2):
        env = dict(
            os.environ,
            PYTHONPATH=str(REPO),
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
        )
        log = open(tmp_path / f"worker{index}.log", "w")  # noqa: SIM115 (closed below)
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, *args],
                    cwd=tmp_path,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    codes = []
    for proc, log in procs:
        try:
            codes.append(proc.wait(timeout=600))
        finally:
            log.close()
    logs = [(tmp_path / f"worker{i}.log").read_text()[-3000:] for i in range(2)]
    assert codes == [0, 0], logs

    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert res["distribution"] == {
        "strategy": "multiworker",
        "replicas": 2,
        "global_batch_size": 256,
    }
    assert res["metrics"]["acc"] is not None and res["diagnostics"]
    # One results file, one export version: worker 1 wrote only to its (removed) temp folder.
    assert sorted(p.name for p in (tmp_path / "out").glob("results*.json")) == ["results.json"]
    versions = sorted(p.name for p in (tmp_path / "models" / "adec_mice_protein").iterdir())
    assert versions == ["1"]
    assert "tfdeepclust_worker_" in logs[1] and "tfdeepclust_worker_" not in logs[0]


# Narrow networks so each script run takes seconds; the callbacks are what is under test.
_NARROW = {
    "asc2d": ["--filters", "8", "16", "16", "--disc-hidden", "64"],
    "adec": ["--hidden", "32", "32", "64", "--disc-hidden", "32", "--diagnostics-every", "10"],
    "dfvc": [
        *("--filters", "8", "16", "16", "32", "--fc-units", "32"),
        *("--critic-hidden", "16", "--latent-dim", "8"),
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "method, strategy, replicas",
    [
        ("asc2d", "default", 0),
        ("asc2d", "mirrored", 2),
        ("adec", "default", 0),
        ("adec", "mirrored", 1),  # one-device MirroredStrategy: variables are distributed too
        ("adec", "mirrored", 2),
        ("dfvc", "default", 0),
        ("dfvc", "mirrored", 2),
    ],
)
def test_every_script_runs_end_to_end_under_every_strategy(tmp_path, method, strategy, replicas):
    """The quick budget with every clustering-phase callback on: target refresh, checkpoints,
    the time limit (far), FR/FD (ADEC), then the export. Exit 0 and complete results."""
    args = [
        REPO / f"train_{method}.py",
        *("--quick", "--subset", "300", "--batch-size", "64", "--verbose", "0", "--no-pictures"),
        *("--strategy", strategy, "--cpu-replicas", str(replicas), "--time-limit", "1h"),
        *("--output-dir", tmp_path / "out", "--export-dir", tmp_path / "models"),
        *("--pretrain-cache-dir", tmp_path / "cache"),
        *_NARROW[method],
    ]
    proc = run_python(*args, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert res["convergence"]["n_iter"] > 0
    assert res["convergence"]["stop_reason"] in ("maxiter", "tol")
    assert len(res["history"]) >= 2 and all(0.0 <= h["acc"] <= 1.0 for h in res["history"])
    assert sum(res["label_free"]["cluster_sizes"]) == 300
    assert any((tmp_path / "out" / "checkpoints").glob("*.index"))
    if method == "adec":
        diag = res["diagnostics"]
        assert diag and all(-1.0 <= d["fr"] <= 1.0 for d in diag)
    assert (Path(res["export_path"]) / "saved_model.pb").is_file()
