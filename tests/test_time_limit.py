"""--time-limit: training stops before the budget runs out, at a saved point, and a rerun
continues; a stopped pretraining keeps its backup, a stopped clustering phase its checkpoint."""

import json
import time

import keras
import numpy as np
import pytest
from helpers import NARROW_ASC2D, REPO, run_python

from tfdeepclust.api import get_recipe
from tfdeepclust.cli import parse_args, recipe_parser
from tfdeepclust.training.time_limit import (
    EXIT_TIME_LIMIT,
    TimeLimit,
    TimeLimitReached,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5400", 5400), ("90m", 5400), ("1.5h", 5400), ("2h30m", 9000), ("1h 30m", 5400), (45, 45)],
)
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "10x", "-5", "0", "h", "1h30"])
def test_a_bad_duration_is_refused_with_the_accepted_forms(text):
    with pytest.raises(ValueError, match="duration|positive"):
        parse_duration(text)


def test_time_limit_flag_parses_to_seconds_and_refuses_a_bad_value(capsys):
    recipe = get_recipe("asc2d")
    common, _ = parse_args(recipe_parser(recipe), recipe.config_cls, ["--time-limit", "2h30m"])
    assert common.time_limit == 9000
    assert parse_args(recipe_parser(recipe), recipe.config_cls, [])[0].time_limit is None
    with pytest.raises(SystemExit) as exc:
        parse_args(recipe_parser(recipe), recipe.config_cls, ["--time-limit", "soon"])
    assert exc.value.code == 2
    assert "e.g. 90m, 1.5h or 2h30m" in capsys.readouterr().err


class _Sleep(keras.callbacks.Callback):
    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(self.seconds)


def _tiny_fit(callbacks, epochs=100, steps=2):
    keras.utils.set_random_seed(0)
    x_in = keras.Input((4,))
    model = keras.Model(x_in, keras.layers.Dense(1)(x_in))
    model.compile("sgd", "mse")
    x = np.zeros((8, 4), "float32")
    y = np.zeros((8, 1), "float32")
    return model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, callbacks=callbacks)


def test_stops_before_the_next_epoch_would_overrun_the_limit():
    limit = TimeLimit(3.0, "epoch")
    t0 = time.perf_counter()
    _tiny_fit([_Sleep(0.4), limit])
    elapsed = time.perf_counter() - t0
    # Epochs of ~0.4 s: several fit in 3 s, and the one predicted to end past it is not
    # started (without the limit the 100 epochs take 40 s). The stop rests on a prediction from
    # the mean epoch so far, so a loaded machine can stretch the last epoch past the limit: the
    # wall-clock bound allows one epoch of that (it failed at 3.0 with 3 jobs on 2 cores).
    assert limit.fired and limit.done >= 2
    assert elapsed < 3.0 + 0.4


def test_an_expired_limit_stops_after_one_epoch_or_step_and_a_far_one_never():
    past = time.perf_counter() - 10.0
    for per, expected in (("epoch", 1), ("step", 1)):
        limit = TimeLimit(1.0, per, start=past)
        hist = _tiny_fit([limit])
        assert limit.fired and limit.done == expected
        assert len(hist.history["loss"]) == 1
    far = TimeLimit(3600.0, "step")
    hist = _tiny_fit([far], epochs=3)
    assert not far.fired and far.done == 6 and len(hist.history["loss"]) == 3


def test_a_stop_by_another_rule_is_not_claimed_by_the_limit():
    class StopNow(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    limit = TimeLimit(1.0, "epoch", start=time.perf_counter() - 10.0)
    _tiny_fit([StopNow(), limit])
    assert not limit.fired


def _networks():
    keras.utils.set_random_seed(0)
    x_in, z_in = keras.Input((8,)), keras.Input((3,))
    return (
        keras.Model(x_in, keras.layers.Dense(3)(x_in)),
        keras.Model(z_in, keras.layers.Dense(8)(z_in)),
    )


def test_pretraining_stopped_by_the_limit_keeps_its_backup_and_resumes(tmp_path):
    from tfdeepclust.training.pretrain import pretrain_autoencoder

    x = np.random.default_rng(0).random((64, 8)).astype("float32")
    cache = tmp_path / "ae.weights.h5"
    backup = tmp_path / "ae.weights.h5.backup"
    kw = dict(epochs=4, batch_size=16, learning_rate=1e-2, seed=0, cache_path=cache, verbose=0)

    def expired():
        return TimeLimit(1.0, "epoch", start=time.perf_counter() - 10.0)

    with pytest.raises(TimeLimitReached, match=r"after epoch 1 of 4.*from epoch 2"):
        pretrain_autoencoder(*_networks(), x, callbacks=[expired()], **kw)
    assert backup.is_dir() and not cache.exists()
    # The next slice counts epochs over both processes.
    with pytest.raises(TimeLimitReached, match=r"after epoch 2 of 4.*from epoch 3"):
        pretrain_autoencoder(*_networks(), x, callbacks=[expired()], **kw)
    res = pretrain_autoencoder(*_networks(), x, callbacks=[], **kw)
    assert res["resumed_at_epoch"] == 2 and res["processes"] == 3
    assert cache.is_file() and not backup.exists()


def test_a_limit_that_fires_after_the_last_epoch_stops_nothing(tmp_path):
    from tfdeepclust.training.pretrain import pretrain_autoencoder

    x = np.random.default_rng(0).random((32, 8)).astype("float32")
    cache = tmp_path / "ae.weights.h5"
    limit = TimeLimit(1.0, "epoch", start=time.perf_counter() - 10.0)
    res = pretrain_autoencoder(
        *_networks(), x, 1, 16, 1e-2, 0, cache_path=cache, verbose=0, callbacks=[limit]
    )
    assert limit.fired and res["epochs"] == 1 and res["final_loss"] is not None
    assert cache.is_file() and not (tmp_path / "ae.weights.h5.backup").exists()


def test_without_a_cache_the_pretraining_is_not_cut_short(tmp_path, capsys):
    from tfdeepclust.training.pretrain import pretrain_autoencoder

    x = np.random.default_rng(0).random((32, 8)).astype("float32")
    limit = TimeLimit(1.0, "epoch", start=time.perf_counter() - 10.0)
    res = pretrain_autoencoder(*_networks(), x, 3, 16, 1e-2, 0, verbose=0, callbacks=[limit])
    assert res["final_loss"] is not None and not limit.fired
    assert "cannot stop the pretraining without losing it" in capsys.readouterr().out


@pytest.mark.slow
def test_a_run_sliced_by_the_time_limit_ends_as_one_run(tmp_path):
    """Slice 1 stops in pretraining (no results), slice 2 finishes pretraining and stops after
    one clustering step (results so far, exit 75), slice 3 (no limit) finishes the run."""
    out = tmp_path / "out"
    cmd = [
        REPO / "train_asc2d.py",
        "--subset",
        "400",
        "--pretrain-epochs",
        "2",
        "--maxiter",
        "40",
        "--update-interval",
        "10",
        "--tol",
        "0",
        "--output-dir",
        out,
        "--pretrain-cache-dir",
        tmp_path / "cache",
        "--no-export",
        "--verbose",
        "0",
        *NARROW_ASC2D,
    ]
    # A 1 s budget is spent before the first epoch ends: each slice does the least it can.
    first = run_python(*cmd, "--time-limit", "1", cwd=tmp_path)
    assert first.returncode == EXIT_TIME_LIMIT, first.stdout[-3000:] + first.stderr[-3000:]
    assert "stopped the pretraining after epoch 1 of 2" in first.stdout
    assert not (out / "results.json").exists()

    second = run_python(*cmd, "--time-limit", "1", cwd=tmp_path)
    assert second.returncode == EXIT_TIME_LIMIT, second.stdout[-3000:] + second.stderr[-3000:]
    assert "STOPPED BY THE TIME LIMIT" in second.stdout
    res = json.loads((out / "results.json").read_text())
    assert res["convergence"]["stop_reason"] == "time_limit"
    assert res["convergence"]["n_iter"] == 1
    assert res["pretrain"]["resumed_at_epoch"] == 1 and res["pretrain"]["processes"] == 2
    assert res["profile"]["deviations"]["time_limit"] == {"paper": None, "used": 1.0}

    third = run_python(*cmd, cwd=tmp_path)
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    assert "continuing from the checkpoint at iteration 1 " in third.stdout
    # Beside the slice's results, not over them (without --overwrite).
    assert json.loads((out / "results.json").read_text())["convergence"]["n_iter"] == 1
    res = json.loads((out / "results_1.json").read_text())
    assert res["convergence"]["stop_reason"] == "maxiter" and res["convergence"]["n_iter"] == 40
    assert res["convergence"]["resumed_from_iteration"] == 1
    assert "time_limit" not in res["profile"]["deviations"]


def test_a_sweep_job_gets_the_time_left_and_none_when_too_little_is_left(tmp_path):
    import sys
    import time

    from tfdeepclust.durations import EXIT_TIME_LIMIT, run_before_deadline

    echo = [sys.executable, "-c", "import sys; open('argv.txt', 'w').write(' '.join(sys.argv[1:]))"]
    assert run_before_deadline([*echo, "--x"], None, cwd=tmp_path) == 0
    assert (tmp_path / "argv.txt").read_text() == "--x"
    assert run_before_deadline(echo, time.time() + 600, cwd=tmp_path) == 0
    flag, seconds = (tmp_path / "argv.txt").read_text().split()
    assert flag == "--time-limit" and 590 <= int(seconds) <= 600
    (tmp_path / "argv.txt").unlink()
    assert run_before_deadline(echo, time.time() + 60, cwd=tmp_path) == EXIT_TIME_LIMIT
    assert not (tmp_path / "argv.txt").exists()  # not started
