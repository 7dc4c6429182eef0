"""results.paper_profile: a run is "paper-faithful" only with the paper budget and defaults."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from helpers import tiny_images

from tfdeepclust.config import CommonConfig
from tfdeepclust.nn import precision
from tfdeepclust.recipes.adec import RECIPE as ADEC
from tfdeepclust.recipes.asc2d import RECIPE as ASC2D
from tfdeepclust.recipes.dfvc import RECIPE as DFVC
from tfdeepclust.results import describe_profile, paper_profile
from tfdeepclust.run_spec import resolve_budget, resolve_method_config


def _paper_run(recipe, data, **common_fields):
    """The configs the runner would resolve for ``--budget paper --preset paper`` (the paper's
    text) plus the given flags."""
    common = CommonConfig(dataset=data.name, budget="paper", **common_fields)
    common = resolve_budget(recipe, common, data.n_samples)
    cfg = recipe.config_cls(**getattr(recipe.config_cls, "PAPER_VALUES", {}))
    return common, resolve_method_config(recipe, cfg, common, data)


def test_the_paper_budget_with_the_papers_text_is_paper_faithful():
    data = tiny_images()
    for recipe in (ASC2D, ADEC, DFVC):
        common, cfg = _paper_run(recipe, data)
        profile = paper_profile(recipe, common, cfg, data, {"stop_reason": "maxiter"})
        assert profile == {"label": "paper-faithful", "deviations": {}}, recipe.name
        assert describe_profile(profile) == "paper-faithful"


@pytest.mark.parametrize("bf16", [False, True])
def test_asc2ds_default_recipe_lists_each_departure_from_the_text(bf16, monkeypatch):
    """The default recipe (augmented pretraining at 1e-3, UMAP + GMM start, the discriminator
    in bfloat16 where the CPU has it) is labelled as what it is: every field it changes appears
    with the paper's value and the one used, the precision as resolved on this CPU."""
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: bf16)
    data = tiny_images()
    common = resolve_budget(ASC2D, CommonConfig(dataset=data.name, budget="paper"), data.n_samples)
    cfg = resolve_method_config(ASC2D, ASC2D.config_cls(), common, data)
    assert cfg.disc_precision == ("bfloat16" if bf16 else "float32")
    profile = paper_profile(ASC2D, common, cfg, data, {"stop_reason": "maxiter"})
    assert profile["deviations"] == {
        "lr_pretrain": {"paper": 3e-3, "used": 1e-3},
        "augment": {"paper": "none", "used": "dec"},
        "init": {"paper": "kmeans", "used": "umap_gmm"},
        **({"disc_precision": {"paper": "float32", "used": "bfloat16"}} if bf16 else {}),
    }


def test_every_changed_setting_is_listed_with_both_values():
    data = tiny_images()
    common, cfg = _paper_run(ASC2D, data, pretrain_epochs=500, pretrained="w.weights.h5")
    cfg = dataclasses.replace(cfg, lr_pretrain=1e-3, augment="dec")
    profile = paper_profile(ASC2D, common, cfg, data)
    assert profile["label"] == "practical"
    assert profile["deviations"] == {
        "pretrain_epochs": {"paper": 200, "used": 500},
        "lr_pretrain": {"paper": 3e-3, "used": 1e-3},
        "augment": {"paper": "none", "used": "dec"},
    }
    assert profile["pretrained_from"] == "w.weights.h5"
    assert "lr_pretrain 0.003→0.001" in describe_profile(profile)


def test_a_lower_cap_counts_only_when_it_binds():
    data = tiny_images()
    common, cfg = _paper_run(ASC2D, data, maxiter=2000)
    stopped_by_tol = paper_profile(ASC2D, common, cfg, data, {"stop_reason": "tol", "n_iter": 900})
    assert stopped_by_tol["label"] == "paper-faithful"
    capped = paper_profile(ASC2D, common, cfg, data, {"stop_reason": "maxiter", "n_iter": 2000})
    assert capped["deviations"] == {"maxiter": {"paper": 20000, "used": 2000}}


def test_the_collapse_stop_counts_only_when_it_ended_the_run():
    data = tiny_images()
    common, cfg = _paper_run(DFVC, data)
    ran_on = paper_profile(DFVC, common, cfg, data, {"stop_reason": "maxiter", "n_iter": 10})
    assert ran_on["label"] == "paper-faithful"
    stopped = paper_profile(DFVC, common, cfg, data, {"stop_reason": "collapsed", "n_iter": 90})
    assert stopped["deviations"] == {"collapse_patience": {"paper": 0, "used": 3}}


def test_other_budgets_subsets_and_cluster_counts_are_deviations():
    data = tiny_images()
    common = resolve_budget(ASC2D, CommonConfig(dataset=data.name, batch_size=64), data.n_samples)
    profile = paper_profile(ASC2D, common, ASC2D.config_cls(), data)
    assert profile["deviations"]["pretrain_epochs"] == {"paper": 200, "used": 50}

    common, cfg = _paper_run(ADEC, data, subset=32)
    over = dataclasses.replace(data, n_clusters=4)
    profile = paper_profile(ADEC, common, cfg, over)
    assert profile["deviations"]["subset"] == {"paper": None, "used": 32}
    assert profile["deviations"]["n_clusters"] == {"paper": 2, "used": 4}
    assert np.unique(data.y).size == 2


def test_operational_fields_and_presets():
    data = tiny_images()
    common, cfg = _paper_run(DFVC, data)
    cfg = dataclasses.replace(cfg, checkpoint_every=7, parallel_augment=True)
    assert paper_profile(DFVC, common, cfg, data)["label"] == "paper-faithful"

    # ADEC's decda preset is DEC-DA's recipe, not the paper's: every value it sets is listed.
    common, cfg = _paper_run(ADEC, data, pretrain_epochs=500)
    cfg = dataclasses.replace(cfg, **ADEC.presets["decda"]["config"], mode="dec")
    devs = paper_profile(ADEC, common, cfg, data)["deviations"]
    assert set(devs) == {
        "pretrain_epochs",
        "pretrain_objective",
        "pretrain_optimizer",
        "lr_pretrain",
        "lr_cluster",
        "mode",
    }


def test_summarize_labels_runs_recorded_before_the_profile_existed():
    from helpers import REPO, load_benchmark

    summarize = load_benchmark("summarize")
    results = REPO / "benchmarks" / "results"
    load = lambda name: json.loads((results / name).read_text())  # noqa: E731

    # The paper-budget USPS run with every default (it stopped on tol below the 2,000 cap).
    assert summarize._run_profile(load("asc2d_usps_seed0.json"))["label"] == "paper-faithful"
    # ConvDEC-DA's pretraining + augmentation: what differs, from the recorded config alone.
    devs = summarize._run_profile(load("asc2d-convdecda-aug_usps_seed0.json"))["deviations"]
    assert set(devs) == {"pretrain_epochs", "maxiter", "lr_pretrain", "augment"}
    assert devs["maxiter"] == {"paper": 20000, "used": 2000}  # it ran to the cap
