"""KerasTuner sweeps: search-space bounds, an end-to-end ASC2D sweep with best-model reload and
resume, every tuner kind, a crashed trial that does not abort the sweep, CLI errors."""

import dataclasses
import json
from pathlib import Path

import keras_tuner as kt
import numpy as np
import pytest

from tfdeepclust.config import CommonConfig
from tfdeepclust.recipes.adec import RECIPE as ADEC
from tfdeepclust.recipes.adec import ADECConfig
from tfdeepclust.recipes.asc2d import RECIPE as ASC2D
from tfdeepclust.recipes.asc2d import ASC2DConfig
from tfdeepclust.recipes.dfvc import DFVCConfig
from tfdeepclust.tuning import SEARCH_SPACES, TuneOptions, search_space, tune
from tfdeepclust.tuning.space import apply


def _declared(param, grid=False):
    hp = kt.HyperParameters()
    param.declare(hp, grid)
    return hp.space[0]


def test_asc2d_search_space_has_the_papers_ranges():
    space = {p.name: p for p in search_space("asc2d")}
    l1, l2, l3 = (_declared(space[n]) for n in ("lambda1", "lambda2", "lambda3"))
    assert (l1.min_value, l1.max_value, l1.sampling) == (0.0, 1.0, "linear")  # Fig. 4
    assert (l2.min_value, l2.max_value, l2.sampling) == (1e-7, 5e-2, "log")  # Fig. 5
    assert (l3.min_value, l3.max_value, l3.sampling) == (1e-7, 1e-3, "log")
    assert 0.5 in space["lambda1"].grid and 1e-4 in space["lambda2"].grid  # paper defaults


@pytest.mark.parametrize("method", sorted(SEARCH_SPACES))
def test_every_grid_lies_in_its_range_and_contains_valid_values(method):
    for p in search_space(method):
        assert p.low < p.high and p.source
        assert all(p.low <= v <= p.high for v in p.grid), p.name
        choice = _declared(p, grid=True)
        assert list(choice.values) == list(p.grid)


def test_dfvc_ranges_cover_table_1():
    space = {p.name: p for p in search_space("dfvc")}
    for name, values in {
        "alpha": (2, 3),
        "beta": (0.2, 0.3, 0.5),
        "gamma": (0.02, 0.1, 0.2),
    }.items():
        assert all(space[name].low <= v <= space[name].high for v in values)


def test_apply_writes_method_and_common_fields():
    params = search_space("adec")
    cfg, common = apply(
        {"n_aux": 3, "update_interval": 77, "lr_cluster": 0.05},
        params,
        ADECConfig(),
        CommonConfig(),
    )
    assert (cfg.n_aux, cfg.lr_cluster, common.update_interval) == (3, 0.05, 77)
    assert isinstance(cfg.n_aux, int) and ADECConfig().n_aux == 5  # defaults untouched
    cfg, _ = apply(
        {"alpha": 3, "beta": 0.2, "gamma": 0.02}, search_space("dfvc"), DFVCConfig(), CommonConfig()
    )
    assert (cfg.alpha, cfg.beta, cfg.gamma) == (3.0, 0.2, 0.02)


def test_bad_options_are_rejected_by_name():
    with pytest.raises(ValueError, match="lambda9.*lambda1"):
        TuneOptions(params=("lambda9",)).validate("asc2d")
    with pytest.raises(ValueError, match="unknown objective"):
        TuneOptions(objective="acc").validate("asc2d")
    with pytest.raises(ValueError, match="--tuner"):
        TuneOptions(tuner="annealing").validate("asc2d")


def test_cli_rejects_unknown_tune_params_before_training(capsys, tmp_path):
    from tfdeepclust.entry import main

    rc = main(ASC2D, ["--tune", "--tune-params", "lambda9", "--tune-dir", str(tmp_path)])
    assert rc == 2
    assert "lambda9" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())


def _common(tmp_path, **kw):
    base = dict(
        dataset="usps",
        subset=400,
        seed=0,
        batch_size=128,
        pretrain_epochs=15,
        maxiter=20,
        update_interval=10,
        kmeans_n_init=3,
        verbose=0,
        pretrain_cache_dir=str(tmp_path / "pretrained"),
        export_dir=str(tmp_path / "models"),
    )
    base.update(kw)
    return CommonConfig(**base)


# A narrower ASC2D (the sweep mechanics, not the network, are under test): the paper's
# 2000-2000 discriminator made this the slowest tuning test.
SMALL_ASC2D = ASC2DConfig(filters=(16, 32, 64), disc_hidden=(256, 256))


@pytest.mark.slow
def test_random_search_asc2d_end_to_end_reload_and_resume(tmp_path):
    from tfdeepclust.data import load_dataset
    from tfdeepclust.tuning.hypermodel import ClusteringHyperModel, make_objective
    from tfdeepclust.tuning.sweep import make_tuner

    common = _common(tmp_path)
    opts = TuneOptions(
        tuner="random", max_trials=2, params=("lambda1", "lambda2"), tune_dir=str(tmp_path / "t")
    )
    summary = tune(ASC2D, common, SMALL_ASC2D, opts)
    project = tmp_path / "t" / "asc2d_usps_seed0"
    rows = json.loads((project / "trials.json").read_text())
    assert [r["status"] for r in rows] == ["COMPLETED", "COMPLETED"]
    for r in rows:  # label-free objective and oracle metrics recorded for every trial
        assert -1.0 <= r["silhouette"] <= 1.0 and 0.0 <= r["oracle_acc"] <= 1.0
        assert 0.0 <= r["lambda1"] <= 1.0 and 1e-7 <= r["lambda2"] <= 5e-2
    assert rows[0]["lambda1"] != rows[1]["lambda1"]
    assert (project / "trials.csv").read_text().startswith("trial_id,status,lambda1,lambda2")
    assert (project / "sensitivity.png").stat().st_size > 1000
    best = summary["best_trial"]
    assert best["silhouette"] == max(r["silhouette"] for r in rows)
    assert summary["best_values"] == {"lambda1": best["lambda1"], "lambda2": best["lambda2"]}
    assert summary["pretrain"]["weights"].endswith(".weights.h5")
    assert Path(summary["best_run"]["export_path"]).is_dir()
    # The retrained best run starts from the same pretraining and k-means: same figures.
    assert summary["best_run"]["metrics"]["acc"] == pytest.approx(best["oracle_acc"], abs=0.02)

    # Reload: the tuner's best model predicts the labels its trial produced.
    data = load_dataset("usps").subset(400, seed=0)
    hm = ClusteringHyperModel(ASC2D, SMALL_ASC2D, common, data, search_space("asc2d")[:2])
    tuner = make_tuner(
        "random", hm, make_objective("silhouette"), 2, 0, tmp_path / "t", "asc2d_usps_seed0"
    )
    model = tuner.get_best_models(1)[0]
    expected = np.load(project / "labels" / f"{best['trial_id']}.npy")
    np.testing.assert_array_equal(model.predict(data.x), expected)

    # Resume: a larger max_trials continues the same project and keeps the finished trials.
    summary = tune(
        ASC2D, common, SMALL_ASC2D, dataclasses.replace(opts, max_trials=3, retrain_best=False)
    )
    rows2 = json.loads((project / "trials.json").read_text())
    assert len(rows2) == 3 and rows2[:2] == rows
    # Other search settings in the same folder are refused, not silently mixed.
    with pytest.raises(FileExistsError, match="other settings.*objective"):
        tune(ASC2D, common, SMALL_ASC2D, dataclasses.replace(opts, objective="size_entropy"))


# A small ADEC (the tuner mechanics, not the network, are under test), pretrained once for all
# the sweeps of this module through a shared pretraining cache.
SMALL_ADEC = ADECConfig(hidden=(64, 64, 128), disc_hidden=(64,))


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("pretrained")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bayesian", "grid", "hyperband"])
def test_every_tuner_kind_runs_adec_trials(tmp_path, kind, shared_cache):
    common = _common(
        tmp_path,
        dataset="mice_protein",
        subset=None,
        pretrain_epochs=3,
        maxiter=10,
        update_interval=5,
        export=False,
    )
    opts = TuneOptions(
        tuner=kind,
        max_trials=2,
        params=("n_aux", "lr_cluster"),
        tune_dir=str(tmp_path / "t"),
        max_epochs=2,
        retrain_best=False,
    )
    summary = tune(ADEC, common, SMALL_ADEC, opts)
    assert summary["n_completed"] >= 2 and summary["n_failed"] == 0
    rows = json.loads(Path(tmp_path / "t" / "adec_mice_protein_seed0" / "trials.json").read_text())
    if kind == "grid":  # the grid's first points, in order
        assert [(r["n_aux"], r["lr_cluster"]) for r in rows] == [(1, 1e-4), (1, 1e-3)]
    if kind == "hyperband":  # some trial continued an earlier one from its saved weights
        assert summary["budget"]["hyperband_max_epochs"] == 2
        assert any(r["n_iter"] > 0 for r in rows)


@pytest.mark.slow
def test_a_crashing_trial_does_not_abort_the_sweep(tmp_path, monkeypatch, shared_cache):
    calls = {"n": 0}
    original = type(ADEC).cluster

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated crash in the first trial")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(ADEC), "cluster", flaky)
    common = _common(
        tmp_path,
        dataset="mice_protein",
        subset=None,
        pretrain_epochs=2,
        maxiter=5,
        update_interval=5,
        export=False,
    )
    opts = TuneOptions(
        tuner="random",
        max_trials=2,
        params=("n_aux",),
        tune_dir=str(tmp_path / "t"),
        retrain_best=False,
    )
    summary = tune(ADEC, common, SMALL_ADEC, opts)
    assert summary["n_failed"] == 1 and summary["n_completed"] == 1
    assert summary["best_trial"]["status"] == "COMPLETED"


def test_cluster_count_grid_spans_two_to_twice_k():
    (p,) = search_space("adec", ["n_clusters"], n_clusters=10)
    assert (p.low, p.high, p.common, p.kind) == (2, 20, True, "int")
    assert p.grid == tuple(range(2, 21))
    (wide,) = search_space("dfvc", ["n_clusters"], n_clusters=100)
    assert wide.grid[0] == 2 and wide.grid[-1] == 200 and len(wide.grid) <= 12
    assert all(p.name != "n_clusters" for p in search_space("asc2d"))  # never by default


def _blobs_npz(tmp_path, k=3, per=30):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(k * per, 6)) + 8.0 * np.repeat(np.eye(k, 6), per, axis=0)
    path = tmp_path / "blobs.npz"
    np.savez(path, x=x.astype("float32"), y=np.repeat(np.arange(k), per))
    return f"npz:{path}"


def test_a_label_free_k_sweep_finds_three_separated_blobs(tmp_path):
    common = _common(
        tmp_path,
        dataset=_blobs_npz(tmp_path),
        subset=None,
        batch_size=32,
        pretrain_epochs=30,
        maxiter=30,
        n_clusters=None,
    )
    opts = TuneOptions(
        tuner="grid",
        max_trials=10,
        objective="silhouette",
        params=("n_clusters",),
        tune_dir=str(tmp_path / "tune"),
    )
    cfg = ADECConfig(mode="dec", hidden=(32, 32, 64), latent_dim=4, lr_pretrain=1e-3)
    summary = tune(ADEC, common, cfg, opts)
    (trials,) = (tmp_path / "tune").glob("adec_*/trials.json")
    sil = {int(r["n_clusters"]): r["silhouette"] for r in json.loads(trials.read_text())}
    assert sorted(sil) == [2, 3, 4, 5, 6]
    assert summary["best_values"] == {"n_clusters": 3}, sil
    best = json.loads(Path(summary["best_run"]["results_path"]).read_text())
    assert best["n_clusters"] == 3 and best["metrics"]["acc"] == 1.0


def test_tuning_k_refuses_a_fixed_pretrained_auto_encoder_that_depends_on_k(tmp_path):
    weights = tmp_path / "w.weights.h5"
    weights.write_bytes(b"")
    common = _common(tmp_path, pretrained=str(weights))
    opts = TuneOptions(params=("n_clusters",), tune_dir=str(tmp_path / "tune"))
    with pytest.raises(ValueError, match="drop --pretrained to tune n_clusters"):
        tune(ASC2D, common, SMALL_ASC2D, opts)


def test_an_asc2d_k_sweep_pretrains_each_width_once_and_retrains_the_best(tmp_path):
    from helpers import tiny_images

    data = tiny_images()
    np.savez(tmp_path / "bars.npz", x=data.x, y=data.y)
    common = _common(
        tmp_path,
        dataset=f"npz:{tmp_path / 'bars.npz'}",
        subset=None,
        batch_size=32,
        pretrain_epochs=3,
        maxiter=10,
        update_interval=5,
    )
    opts = TuneOptions(
        tuner="grid", max_trials=5, params=("n_clusters",), tune_dir=str(tmp_path / "tune")
    )
    summary = tune(ASC2D, common, ASC2DConfig(filters=(4, 8, 8), disc_hidden=(16,)), opts)
    assert summary["n_completed"] == 3  # K = 2, 3, 4
    # ASC2D's embedding is K wide: one pretraining per K, each cached under its own key.
    assert len(list((tmp_path / "pretrained").glob("asc2d_*.weights.h5"))) == 3
    best = json.loads(Path(summary["best_run"]["results_path"]).read_text())
    assert best["n_clusters"] == summary["best_values"]["n_clusters"]
