"""train_asc2d.py end to end on a tiny budget, and the exported SavedModel in a fresh process."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
REQUIRED = {
    "method",
    "dataset",
    "seed",
    "n_samples",
    "n_clusters",
    "metrics",
    "label_free",
    "wall_time_s",
    "config",
    "versions",
    "git_sha",
    "data_sha256",
    "profile",
    "export_path",
}


def _run(args, cwd, timeout=600):
    from helpers import run_python

    return run_python(REPO / "train_asc2d.py", *args, cwd=cwd, timeout=timeout)


@pytest.mark.slow
def test_quick_run_writes_results_labels_and_a_reloadable_export(tmp_path):
    args = [
        "--quick",
        "--subset",
        "1000",
        "--output-dir",
        str(tmp_path / "out"),
        "--export-dir",
        str(tmp_path / "models"),
        "--pretrain-cache-dir",
        str(tmp_path / "cache"),
        "--verbose",
        "0",
    ]
    proc = _run(args, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ACC" in proc.stdout and "exported SavedModel" in proc.stdout

    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(res) >= REQUIRED
    assert res["method"] == "asc2d" and res["dataset"] == "usps" and res["n_samples"] == 1000
    assert set(res["metrics"]) >= {"acc", "nmi", "ari"}
    assert 0.0 <= res["metrics"]["acc"] <= 1.0
    assert set(res["wall_time_s"]) >= {"pretrain", "cluster", "total"}
    assert res["config"]["asc2d.lambda1"] == 0.5 and res["config"]["asc2d.lambda2"] == 1e-4
    assert sum(res["label_free"]["cluster_sizes"]) == 1000
    conv = res["convergence"]
    assert (conv["stop_reason"], conv["n_iter"] == 30) in (("maxiter", True), ("tol", False))
    assert conv["n_iter"] % 10 == 0 or conv["stop_reason"] == "maxiter"  # tol fires at refreshes
    assert res["versions"]["tensorflow"].startswith("2.21")
    # --quick on a subset is not the paper's recipe, and the JSON and the summary say why.
    assert res["profile"]["label"] == "practical"
    assert res["profile"]["deviations"]["subset"] == {"paper": None, "used": 1000}
    assert "profile: practical (" in proc.stdout and "subset None→1000" in proc.stdout
    export = Path(res["export_path"])
    assert export == tmp_path / "models" / "asc2d_usps" / "1"
    assert (export / "saved_model.pb").is_file()

    # The exported model, loaded with plain TensorFlow in a fresh process, gives the same labels.
    from tfdeepclust.data import load_dataset

    data = load_dataset("usps").subset(1000, seed=0)
    np.save(tmp_path / "x.npy", data.x)
    code = (
        "import sys, numpy as np, tensorflow as tf\n"
        "m = tf.saved_model.load(sys.argv[1])\n"
        "out = m.signatures['serving_default'](x=tf.constant(np.load(sys.argv[2])))\n"
        "np.save(sys.argv[3], out['cluster_labels'].numpy())\n"
        "np.save(sys.argv[4], out['probabilities'].numpy())\n"
        "print(sorted(m.signatures.keys()))\n"
    )
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(export),
            str(tmp_path / "x.npy"),
            str(tmp_path / "labels.npy"),
            str(tmp_path / "proba.npy"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "embed" in fresh.stdout and "serving_default" in fresh.stdout
    served = np.load(tmp_path / "labels.npy")
    rows = (tmp_path / "out" / "labels.csv").read_text().splitlines()
    assert rows[0] == "sample_index,cluster,label"
    trained = np.array([int(r.split(",")[1]) for r in rows[1:]])
    np.testing.assert_array_equal(served, trained)
    proba = np.load(tmp_path / "proba.npy")
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)

    # Running again resumes the finished run from its checkpoint (no retraining) and never
    # overwrites: a second results file and export version appear, with the same labels.
    proc = _run(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[resume]" in proc.stdout
    again = json.loads((tmp_path / "out" / "results_1.json").read_text())
    assert again["convergence"]["resumed_from_iteration"] == conv["n_iter"]
    assert again["convergence"]["n_iter"] == conv["n_iter"]
    assert again["metrics"] == res["metrics"]
    assert (tmp_path / "models" / "asc2d_usps" / "2" / "saved_model.pb").is_file()
    rows2 = (tmp_path / "out" / "labels_1.csv").read_text().splitlines()
    assert rows2 == rows


def test_help_is_fast_and_lists_hyperparameters(tmp_path):
    proc = _run(["--help"], tmp_path, timeout=60)
    assert proc.returncode == 0
    for flag in (
        "--lambda1",
        "--lambda2",
        "--lambda3",
        "--use-discriminator",
        "--dataset",
        "--maxiter",
        "--update-interval",
        "--tol",
        "--quick",
        "--tensorboard",
    ):
        assert flag in proc.stdout
    # Each hyperparameter names its real default once, not a second "(default: None)".
    assert "(default: 0.5)" in " ".join(proc.stdout.split())
    assert ") (default: None)" not in proc.stdout


def test_unknown_dataset_is_a_clear_error(tmp_path):
    proc = _run(["--dataset", "mnits", "--output-dir", str(tmp_path)], tmp_path, timeout=120)
    assert proc.returncode == 2
    assert "Unknown data set 'mnits'" in proc.stdout and "usps" in proc.stdout
    assert not (tmp_path / "results.json").exists()


def test_bad_option_value_is_a_clear_error_before_pretraining(tmp_path):
    """A value no choice list covers (enumerations are refused by argparse: test_cli.py) fails
    when the model is built, through the runner's ``error: ...`` path, before pretraining."""
    args = ["--quick", "--embedding-activation", "swishy", "--output-dir", str(tmp_path / "out")]
    args += ["--pretrain-cache-dir", str(tmp_path / "cache")]
    proc = _run(args, tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    (line,) = [line for line in proc.stdout.splitlines() if line.startswith("error: ")]
    assert "swishy" in line
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "[pretrain]" not in proc.stdout and "Epoch 1/" not in proc.stdout  # failed first
    assert not (tmp_path / "out" / "results.json").exists()


def test_convdecda_preset_equals_its_flags_and_explicit_flags_win():
    from tfdeepclust.cli import parse_args, recipe_parser
    from tfdeepclust.recipes.asc2d import RECIPE

    recipe = RECIPE

    def parse(*argv):
        return parse_args(recipe_parser(recipe), recipe.config_cls, list(argv))

    common, cfg = parse("--preset", "convdecda")
    flags = ("--augment", "dec", "--lr-pretrain", "1e-3", "--init", "kmeans")
    common_f, cfg_f = parse(*flags, "--pretrain-epochs", "500")
    assert cfg == cfg_f and cfg.augment == "dec" and cfg.lr_pretrain == 1e-3
    assert cfg.init == "kmeans"
    assert common.pretrain_epochs == 500 and {**vars(common), "preset": None} == vars(common_f)
    # Everything else stays the paper's; explicit flags override the preset.
    assert cfg.lr_ae == 3e-3 and cfg.lambda1 == 0.5
    common, cfg = parse("--preset", "convdecda", "--augment", "none", "--pretrain-epochs", "9")
    assert cfg.augment == "none" and cfg.lr_pretrain == 1e-3 and common.pretrain_epochs == 9
    # The help renders the preset's text (a "%" in it must not break argparse).
    assert "shift ±10 %" in " ".join(recipe_parser(recipe).format_help().split())


def test_quickstart_resolves_to_the_default_recipe_and_preset_paper_to_the_text():
    """``python train_asc2d.py`` (no flags) runs the default recipe; ``--preset paper`` gives
    the paper's value of every field, and only those fields differ between the two."""
    import dataclasses

    from tfdeepclust.cli import parse_args, recipe_parser
    from tfdeepclust.recipes.asc2d import RECIPE, ASC2DConfig

    def parse(*argv):
        return parse_args(recipe_parser(RECIPE), RECIPE.config_cls, list(argv))

    common, cfg = parse()
    assert cfg == ASC2DConfig()
    assert (cfg.augment, cfg.lr_pretrain, cfg.init) == ("dec", 1e-3, "umap_gmm")
    assert common.budget == "default" and common.dataset == "usps"
    _, paper = parse("--preset", "paper")
    differ = {
        f.name: (getattr(cfg, f.name), getattr(paper, f.name))
        for f in dataclasses.fields(cfg)
        if getattr(cfg, f.name) != getattr(paper, f.name)
    }
    assert differ == {
        "augment": ("dec", "none"),
        "lr_pretrain": (1e-3, 3e-3),
        "init": ("umap_gmm", "kmeans"),
        "disc_precision": ("auto", "float32"),
    }
    # The paper's Table 2 values are shared by both recipes.
    assert (paper.lambda1, paper.lambda2, paper.lambda3) == (0.5, 1e-4, 1e-5)
    assert (paper.lr_ae, paper.lr_disc, paper.d_steps) == (3e-3, 1e-3, 3)
    assert paper.disc_hidden == (2000, 2000) and paper.filters == (32, 64, 128)
