"""benchmarks/reproduce.py: which seeds a sweep runs, skips, continues or redoes.

The training script is replaced by a stand-in that writes a results JSON and exits with the code
the test asks for, so these tests check the sweep's bookkeeping in a second, not the training.
"""

import json
import sys

import pytest

from tests.helpers import load_benchmark
from tfdeepclust.training.time_limit import EXIT_TIME_LIMIT

FAKE_TRAIN = """
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
out = Path(args[args.index("--output-dir") + 1])
seed = int(args[args.index("--seed") + 1])
out.mkdir(parents=True, exist_ok=True)
calls = Path(os.environ["FAKE_CALLS"])
calls.write_text(calls.read_text() + f"{seed}\\n" if calls.exists() else f"{seed}\\n")
reason = os.environ.get(f"FAKE_STOP_{seed}", "maxiter")
(out / "results.json").write_text(json.dumps({"convergence": {"stop_reason": reason}}))
sys.exit(int(os.environ.get(f"FAKE_RC_{seed}", "0")))
"""


@pytest.fixture()
def reproduce(tmp_path, monkeypatch):
    module = load_benchmark("reproduce")
    (tmp_path / "train_asc2d.py").write_text(FAKE_TRAIN)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "RESULTS", tmp_path / "results")
    monkeypatch.setenv("FAKE_CALLS", str(tmp_path / "calls.txt"))
    return module


def _sweep(reproduce, monkeypatch, tmp_path, *seeds: int) -> tuple[int, list[int]]:
    """Runs the sweep over ``seeds``; returns its exit code and the seeds actually trained."""
    calls = tmp_path / "calls.txt"
    calls.unlink(missing_ok=True)
    argv = ["reproduce.py", "--method", "asc2d", "--dataset", "x", "--seeds", *map(str, seeds)]
    monkeypatch.setattr(sys, "argv", [*argv, "--", "--budget", "paper"])
    rc = reproduce.main()
    trained = [int(s) for s in calls.read_text().split()] if calls.exists() else []
    return rc, trained


def test_helpers_keep_the_command_and_read_the_stop_reason(reproduce, tmp_path):
    assert reproduce.EXIT_TIME_LIMIT == EXIT_TIME_LIMIT  # kept apart to avoid importing TF
    run = tmp_path / "results.json"
    run.write_text(json.dumps({"convergence": {"stop_reason": "time_limit", "n_iter": 7}}))
    dest = tmp_path / "asc2d_x_seed0.json"
    reproduce._keep(run, dest, "tag", ["train_asc2d.py", "--seed", "0"])
    kept = json.loads(dest.read_text())
    assert kept["benchmark"] == {"tag": "tag", "command": ["--seed", "0"]}
    assert kept["convergence"]["n_iter"] == 7
    assert reproduce._stop_reason(dest) == "time_limit"  # so a rerun continues it
    dest.write_text(json.dumps({"convergence": {"stop_reason": "maxiter"}}))
    assert reproduce._stop_reason(dest) == "maxiter"  # a finished run is skipped
    dest.write_text(json.dumps({"metrics": {}}))
    assert reproduce._stop_reason(dest) is None  # older results without the field: skipped
    for broken in ("{truncated", "[1, 2]"):
        dest.write_text(broken)
        assert reproduce._stop_reason(dest) == reproduce.UNREADABLE


def test_sweep_skips_finished_seeds_and_continues_time_limited_ones(
    reproduce, monkeypatch, tmp_path
):
    rc, trained = _sweep(reproduce, monkeypatch, tmp_path, 0, 1)
    assert (rc, trained) == (0, [0, 1])
    results = tmp_path / "results"
    kept = json.loads((results / "asc2d_x_seed1.json").read_text())
    assert kept["benchmark"]["command"][-2:] == ["--budget", "paper"]  # the arguments after --
    # Relative to the repository, so the recorded command reruns from any checkout.
    command = kept["benchmark"]["command"]
    assert command[0] == "train_asc2d.py" and not any(c.startswith("/") for c in command)
    # Seed 2 is stopped by its time limit: its results so far are kept and the sweep ends there.
    monkeypatch.setenv("FAKE_STOP_2", "time_limit")
    monkeypatch.setenv("FAKE_RC_2", str(EXIT_TIME_LIMIT))
    rc, trained = _sweep(reproduce, monkeypatch, tmp_path, 0, 1, 2, 3)
    assert (rc, trained) == (EXIT_TIME_LIMIT, [2])
    assert reproduce._stop_reason(results / "asc2d_x_seed2.json") == "time_limit"
    assert not (results / "asc2d_x_seed3.json").exists()
    # The rerun continues seed 2 only, then goes on to seed 3.
    monkeypatch.delenv("FAKE_STOP_2")
    monkeypatch.delenv("FAKE_RC_2")
    rc, trained = _sweep(reproduce, monkeypatch, tmp_path, 0, 1, 2, 3)
    assert (rc, trained) == (0, [2, 3])
    assert reproduce._stop_reason(results / "asc2d_x_seed2.json") == "maxiter"


def test_sweep_redoes_an_unreadable_results_file_and_keeps_it_aside(
    reproduce, monkeypatch, tmp_path
):
    results = tmp_path / "results"
    results.mkdir()
    (results / "asc2d_x_seed0.json").write_text("<<<<<<< HEAD\n{}")
    rc, trained = _sweep(reproduce, monkeypatch, tmp_path, 0)
    assert (rc, trained) == (0, [0])
    assert reproduce._stop_reason(results / "asc2d_x_seed0.json") == "maxiter"
    assert (results / "asc2d_x_seed0.json.unreadable").read_text().startswith("<<<<<<<")


def test_a_failed_run_stops_the_sweep_and_writes_nothing(reproduce, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_RC_0", "3")
    rc, trained = _sweep(reproduce, monkeypatch, tmp_path, 0, 1)
    assert (rc, trained) == (3, [0])
    assert not (tmp_path / "results" / "asc2d_x_seed0.json").exists()
