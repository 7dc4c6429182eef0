"""A quiet console: TensorFlow's start-up logs hidden by default, progress lines with an ETA."""

import re

import keras
import numpy as np
import pytest
from helpers import run_python

from tfdeepclust.console import _STARTUP_NOISE, verbose_from_argv
from tfdeepclust.training.progress import EpochProgress, format_duration, print_every
from tfdeepclust.training.target_refresh import TargetRefresh


@pytest.mark.parametrize(
    "argv, level",
    [
        ([], 1),
        (["--quick"], 1),
        (["--verbose"], 2),
        (["--verbose", "--quick"], 2),
        (["--verbose", "0"], 0),
        (["--verbose=1"], 1),
        (["--quick", "--verbose"], 2),
    ],
)
def test_verbosity_is_read_from_the_command_line_before_parsing(argv, level):
    assert verbose_from_argv(argv) == level


def test_only_known_startup_lines_are_dropped():
    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795809067.924771   25929 port.cc:153] oneDNN custom operations are on.",
        "E0000 00:00:1795809071.496149   25929 cuda_platform.cc:52] failed call to cuInit: x",
        "To enable the following instructions: AVX2 AVX512F, in other operations, rebuild",
    ]
    kept = [
        "E0000 00:00:17.1 1 op_kernel.cc:1] OP_REQUIRES failed: out of memory",
        "Traceback (most recent call last):",
        "ImportError: libcudnn.so.9: cannot open shared object file",
    ]
    assert all(_STARTUP_NOISE.match(line) for line in noise)
    assert not any(_STARTUP_NOISE.match(line) for line in kept)


def test_a_fresh_process_imports_tensorflow_without_its_startup_logs():
    code = (
        "from tfdeepclust.console import quiet_startup; quiet_startup(1); "
        "import tensorflow as tf; print(int(tf.constant(2) + 1))"
    )
    proc = run_python("-c", code, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "3"
    assert not re.search(r"oneDNN|cuInit|absl::InitializeLog|cpu_feature_guard", proc.stderr), (
        proc.stderr
    )


def test_a_child_of_a_quiet_process_is_quiet_too():
    """The level quiet_startup set is inherited by child processes, and is not the user's."""
    code = (
        "import os, subprocess, sys; "
        "from tfdeepclust.console import quiet_startup; quiet_startup(1); "
        "child = 'from tfdeepclust.console import quiet_startup; quiet_startup(1); "
        "import tensorflow'; "
        "p = subprocess.run([sys.executable, '-c', child], capture_output=True, text=True); "
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL']); print(p.stderr, file=sys.stderr)"
    )
    proc = run_python("-c", code, timeout=180)
    assert proc.returncode == 0 and proc.stdout.strip() == "2", proc.stderr
    assert not re.search(r"absl::InitializeLog|cpu_feature_guard|cuInit", proc.stderr), proc.stderr


def test_quiet_startup_leaves_a_users_log_level_alone():
    code = (
        "import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '0'; "
        "from tfdeepclust.console import quiet_startup; quiet_startup(1); "
        "import sys; print('tensorflow' in sys.modules)"
    )
    proc = run_python("-c", code, timeout=120)
    assert proc.stdout.strip() == "False"  # not imported, so nothing was hidden


def test_durations_read_as_a_person_writes_them():
    assert format_duration(45.2) == "45 s"
    assert format_duration(725) == "12 min 05 s"
    assert format_duration(7380) == "2 h 03 min"
    assert print_every(50) == 5 and print_every(3) == 1 and print_every(200) == 20


def _tiny_model():
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    m.compile("sgd", "mse")
    return m


def test_pretraining_prints_about_ten_lines_with_an_eta(capsys):
    x = np.zeros((8, 3), "float32")
    _tiny_model().fit(x, x[:, :1], epochs=50, verbose=0, callbacks=[EpochProgress("pretrain", 50)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("[pretrain] epoch 1/50") and "ETA" in lines[0]
    assert lines[-1].startswith("[pretrain] epoch 50/50") and "ETA" not in lines[-1]
    assert len(lines) == 11  # epoch 1, then every 5th
    assert all("loss" in line and "s/epoch" in line for line in lines)


def test_a_resumed_pretraining_counts_from_where_it_resumed(capsys):
    x = np.zeros((8, 3), "float32")
    progress = EpochProgress("pretrain", 20)
    _tiny_model().fit(x, x[:, :1], epochs=20, initial_epoch=13, verbose=0, callbacks=[progress])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[2] for line in lines] == ["14/20", "16/20", "18/20", "20/20"]


@pytest.mark.parametrize("verbose, expected", [(0, 0), (1, 10), (2, 50)])
def test_target_refreshes_print_per_verbosity(capsys, verbose, expected):
    from tfdeepclust.data.pipeline import make_train_dataset
    from tfdeepclust.methods.adec import DECStar

    x = np.random.default_rng(0).normal(size=(40, 6)).astype("float32")
    m = DECStar((6,), 2, hidden=(8,), latent_dim=2)
    m.compile()
    m.attach_targets(len(x))
    m.init_centroids(x, 0, 1)
    cb = TargetRefresh(x, 2, tol=0.0, maxiter=100, verbose=verbose, collapse_patience=0)
    m.fit(make_train_dataset(x, 20, 0), epochs=50, steps_per_epoch=2, callbacks=[cb], verbose=0)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("[refresh]")]
    # Refreshes at iterations 0, 2, ..., 98 (maxiter stops at 100 before refreshing): every one
    # at verbosity 2, every 5th at 1.
    assert len(lines) == expected
    if verbose == 1:
        assert "ETA" in lines[1] and lines[-1].startswith("[refresh] iter 90/100")


def test_the_module_command_is_quiet_unless_asked(tmp_path):
    quiet = run_python("-m", "tfdeepclust", "info", "--model", tmp_path / "missing", timeout=120)
    loud = run_python(
        "-m", "tfdeepclust", "--verbose", "info", "--model", tmp_path / "missing", timeout=120
    )
    for proc in (quiet, loud):
        assert proc.returncode == 2 and "is not a SavedModel folder" in proc.stdout + proc.stderr
    assert "absl::InitializeLog" not in quiet.stderr and "cpu_feature_guard" not in quiet.stderr
    # --verbose lets TensorFlow speak (what it prints depends on the host, but never nothing
    # before absl's initialisation).
    assert "absl::InitializeLog" in loud.stderr
