"""One precedence rule for a run's options (tfdeepclust.run_spec), whichever door they came in."""

import dataclasses

import numpy as np
import pytest

from tfdeepclust.api import get_recipe
from tfdeepclust.cli import parse_args, recipe_parser
from tfdeepclust.config import CommonConfig
from tfdeepclust.data import from_arrays
from tfdeepclust.run_spec import (
    default_update_interval,
    resolve,
    resolve_budget,
    with_preset,
)

PRESETS = {"p": {"config": {"lr_ae": 1.0, "augment": "none"}, "common": {"maxiter": 7}}}


def test_explicit_options_win_over_the_preset():
    merged = with_preset(PRESETS, "p", {"lr_ae": 2.0, "seed": 3})
    assert merged == {"lr_ae": 2.0, "augment": "none", "maxiter": 7, "seed": 3}
    assert with_preset(PRESETS, None, {"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match="preset must be one of"):
        with_preset(PRESETS, "q", {})


def test_the_command_line_and_the_api_resolve_a_preset_alike():
    recipe = get_recipe("asc2d")
    argv = ["--preset", "paper", "--lr-pretrain", "2e-3", "--maxiter", "9", "--dataset", "usps"]
    common, cfg = parse_args(recipe_parser(recipe), recipe.config_cls, argv)
    options = with_preset(recipe.presets, "paper", {"lr_pretrain": 2e-3, "maxiter": 9})
    api_cfg = recipe.config_cls(**{k: v for k, v in options.items() if hasattr(cfg, k)})
    assert cfg == api_cfg
    assert cfg.lr_pretrain == 2e-3  # the flag
    assert (cfg.augment, cfg.init) == ("none", "kmeans")  # the preset: the paper's text
    assert common.maxiter == 9 and common.preset == "paper"


def test_budget_then_data_set_defaults_fill_only_what_is_unset():
    recipe = get_recipe("dfvc")
    rng = np.random.default_rng(0)
    data = from_arrays(rng.random((300, 8, 8, 1)).astype("float32"), None, 3, name="toy")
    # DFVC's budgets are in passes over the data: 100 epochs of 2 batches of 256.
    spec = resolve(recipe, CommonConfig(dataset="toy", budget="paper"), recipe.config_cls(), data)
    assert spec.common.maxiter == 200 and spec.common.update_interval == 2
    assert spec.common.tol == recipe.default_tol
    # Table I's weights come from the data set (grey images: MNIST's row) unless given.
    assert (spec.config.alpha, spec.config.beta, spec.config.gamma) == (2.0, 0.5, 0.1)
    given = dataclasses.replace(recipe.config_cls(), alpha=7.0)
    mine = resolve(recipe, CommonConfig(dataset="toy", maxiter=5, update_interval=4), given, data)
    assert mine.common.maxiter == 5 and mine.common.update_interval == 4
    assert mine.config.alpha == 7.0 and mine.config.beta == 0.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        mine.common = None


def test_the_refresh_interval_default_follows_the_data_set():
    assert default_update_interval("mnist", 70000) == 140
    assert default_update_interval("usps", 9298) == 30
    assert default_update_interval("mine", 20000) == 140
    assert default_update_interval("mine", 19999) == 30
    asc2d = get_recipe("asc2d")
    common = resolve_budget(asc2d, CommonConfig(dataset="mine", batch_size=512), 100)
    assert common.batch_size == 100 and common.update_interval == 30
