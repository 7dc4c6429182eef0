"""benchmarks/trajectory.py: the per-refresh view of a results JSON."""

import json

import pytest
from helpers import REPO, load_benchmark


@pytest.fixture(scope="module")
def trajectory():
    return load_benchmark("trajectory")


def _run(accs, final_acc, n_iter):
    history = [
        {
            "iteration": 100 * i,
            "delta_label": 1.0 if i == 0 else 0.01,
            "largest_cluster_frac": 0.2,
            "smallest_cluster_frac": 0.05,
            "acc": a,
            "nmi": a,
        }
        for i, a in enumerate(accs)
    ]
    return {
        "method": "m",
        "dataset": "d",
        "seed": 0,
        "history": history,
        "metrics": {"acc": final_acc, "nmi": final_acc},
        "label_free": {"largest_cluster_frac": 0.3, "smallest_cluster_frac": 0.01},
        "convergence": {"stop_reason": "maxiter", "n_iter": n_iter},
    }


def test_thinned_rows_keep_start_best_and_end(trajectory):
    run = _run([0.5, 0.6, 0.9, 0.7, 0.6, 0.55, 0.5], final_acc=0.48, n_iter=650)
    rows = trajectory.select_rows(run["history"], every=400, at=None)
    # 0 and 400 by the stride, 200 as the best ACC, 600 as the last refresh.
    assert [r["iteration"] for r in rows] == [0, 200, 400, 600]
    rows = trajectory.select_rows(run["history"], every=None, at=[310])
    assert [r["iteration"] for r in rows] == [0, 200, 300, 600]


def test_table_reports_the_final_metrics_not_the_best(trajectory):
    run = _run([0.5, 0.9, 0.7], final_acc=0.48, n_iter=250)
    text = trajectory.trajectory_table(run, markdown=True)
    lines = text.splitlines()
    assert "best 0.900 at 100, final 0.480 (reported)" in lines[0]
    table = lines[1:]
    assert len(table) == 2 + 3 + 1  # header, rule, three refreshes, the end of the run
    assert "best ACC (diagnosis only)" in table[3] and "| 100 |" in table[3]
    end = table[-1].split(" | ")
    assert end[0] == "| 250" and "0.480" in end and "30.0%" in end and "final (reported)" in end[-1]
    assert table[2].split(" | ")[1] == "—"  # the first assignment has no label change


def test_committed_results_and_files_without_history(trajectory, capsys):
    path = REPO / "benchmarks/results/asc2d_usps_seed0.json"
    trajectory.main([str(path), "--every", "300"])
    out = capsys.readouterr().out
    final = json.loads(path.read_text())["metrics"]["acc"]
    assert f"final {final:.3f} (reported)" in out and "stop tol" in out
    text = trajectory.trajectory_table({"method": "dfvc", "dataset": "random", "seed": 0})
    assert text == "dfvc random seed 0: no refresh history in this results file"
