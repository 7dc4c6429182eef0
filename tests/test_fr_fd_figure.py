"""benchmarks/fr_fd_figure.py: FR / FD of committed runs in one figure."""

import json

import pytest
from helpers import load_benchmark


def test_the_figure_draws_each_runs_fr_and_fd(tmp_path):
    for name, fd in (("a", -0.5), ("b", None)):  # DEC* has no FD: its FR is drawn alone
        diag = [{"iteration": 30 * i, "fr": 0.9 - 0.1 * i, "fd": fd} for i in range(1, 5)]
        (tmp_path / f"{name}.json").write_text(json.dumps({"diagnostics": diag}))
    out = tmp_path / "fig" / "fr_fd.png"
    figure = load_benchmark("fr_fd_figure")
    assert figure.main(["--runs", "a", "b", "--out", str(out), "--results-dir", str(tmp_path)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_a_run_without_diagnostics_is_an_error(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"diagnostics": []}))
    figure = load_benchmark("fr_fd_figure")
    with pytest.raises(SystemExit, match="no FR/FD"):
        figure.main(
            ["--runs", "c", "--out", str(tmp_path / "x.png"), "--results-dir", str(tmp_path)]
        )
