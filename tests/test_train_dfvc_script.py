"""train_dfvc.py end to end on a tiny budget: train, results, labels, export, reload, resume."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import run_python

REPO = Path(__file__).resolve().parents[1]
TINY = [
    "--filters",
    "8",
    "16",
    "16",
    "32",
    "--fc-units",
    "32",
    "--critic-hidden",
    "16",
    "--latent-dim",
    "8",
]


@pytest.mark.slow
def test_quick_dfvc_run_export_reload_and_resume(tmp_path, usps):
    args = [
        str(REPO / "train_dfvc.py"),
        "--quick",
        "--subset",
        "300",
        "--batch-size",
        "64",
        "--output-dir",
        str(tmp_path / "out"),
        "--export-dir",
        str(tmp_path / "models"),
        "--verbose",
        "0",
        *TINY,
    ]
    proc = run_python(*args, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert res["method"] == "dfvc" and res["n_samples"] == 300
    conv = res["convergence"]
    assert conv["stop_reason"] == "maxiter" and conv["n_iter"] == 20  # DFVC never stops on tol
    cfg = res["config"]
    assert (cfg["dfvc.alpha"], cfg["dfvc.beta"], cfg["dfvc.gamma"]) == (2.0, 0.5, 0.1)
    assert cfg["tol"] == 0.0 and cfg["dfvc.aug_mode"] == "double"
    assert res["pretrain"]["skipped"] and res["kmeans_init"]["skipped"]
    # An evaluation on all clean data at iterations 0, 10 (ACC logged: labels exist).
    assert [h["iteration"] for h in res["history"]] == [0, 10]
    assert all(0.0 <= h["acc"] <= 1.0 for h in res["history"])
    times = [h["wall_time_s"] for h in res["history"]]  # ACC against training wall time
    assert 0.0 <= times[0] < times[1]
    for term in ("l_dmi", "l_cmi", "l_vec", "l_reg", "mi_local", "iic_2k"):
        assert np.isfinite(res["epoch_losses"][term]).all(), term
    export = Path(res["export_path"])
    assert export.parent.name == "dfvc_usps" and export.name == "1"

    import tensorflow as tf

    data = usps.subset(300, seed=0)
    served = (
        tf.saved_model.load(str(export))
        .signatures["serving_default"](x=tf.constant(data.x))["cluster_labels"]
        .numpy()
    )
    rows = (tmp_path / "out" / "labels.csv").read_text().splitlines()[1:]
    np.testing.assert_array_equal(served, [int(r.split(",")[1]) for r in rows])

    # Same command with a larger budget: resumes from the checkpoint at iteration 20.
    proc = run_python(*args, "--maxiter", "30", "--no-export", cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res2 = json.loads((tmp_path / "out" / "results_1.json").read_text())
    assert res2["convergence"]["resumed_from_iteration"] == 20
    assert res2["convergence"]["n_iter"] == 30
    assert (tmp_path / "out" / "results.json").is_file()  # the first results are kept
