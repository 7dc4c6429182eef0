"""Same seed + same machine + --deterministic => the same labels, in two fresh processes."""

import json

import pytest
from helpers import NARROW_ASC2D, REPO, run_python


@pytest.mark.slow
def test_two_deterministic_runs_give_identical_labels(tmp_path):
    runs = []
    for name in ("a", "b"):
        # Separate pretraining caches: the pretraining must be reproduced too, not reloaded.
        proc = run_python(
            REPO / "train_asc2d.py",
            "--quick",
            "--subset",
            "200",
            "--pretrain-epochs",
            "2",
            "--maxiter",
            "20",
            "--seed",
            "3",
            "--deterministic",
            "--no-export",
            "--output-dir",
            tmp_path / name,
            "--pretrain-cache-dir",
            tmp_path / f"cache_{name}",
            "--verbose",
            "0",
            *NARROW_ASC2D,  # keeps the two runs short; determinism is what is under test
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        res = json.loads((tmp_path / name / "results.json").read_text())
        assert res["config"]["deterministic"] is True and res["seed"] == 3
        assert res["versions"]["tensorflow"] and res["data_sha256"]
        runs.append(((tmp_path / name / "labels.csv").read_text(), res))
    (labels_a, res_a), (labels_b, res_b) = runs
    assert labels_a == labels_b
    assert res_a["pretrain"]["final_loss"] == res_b["pretrain"]["final_loss"]
    assert res_a["kmeans_init"]["metrics"] == res_b["kmeans_init"]["metrics"]
    assert res_a["metrics"] == res_b["metrics"]
