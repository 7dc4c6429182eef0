"""Every option value is checked before work starts: one `error:` line naming the option and
its valid range, exit code 2, and no data loaded (the checks run before the data set)."""

import dataclasses

import pytest

from tfdeepclust.api import get_recipe
from tfdeepclust.config import CommonConfig
from tfdeepclust.entry import main
from tfdeepclust.validation import check_method_config, check_options

METHODS = ("asc2d", "adec", "dfvc")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--batch-size", "-3"], "--batch-size must be >= 1"),
        (["--batch-size", "0"], "--batch-size must be >= 1"),
        (["--maxiter", "-1"], "--maxiter must be >= 0"),
        (["--pretrain-epochs", "-2"], "--pretrain-epochs must be >= 0"),
        (["--update-interval", "0"], "--update-interval must be >= 1"),
        (["--seed", "-1"], "--seed must be >= 0"),
        (["--tol", "nan"], "--tol must be a finite number"),
        (["--tol", "-0.1"], "--tol must be >= 0"),
        (["--tol", "2"], "--tol is a fraction"),
        (["--kmeans-n-init", "0"], "--kmeans-n-init must be >= 1"),
        (["--n-clusters", "1"], "--n-clusters must be >= 2"),
        (["--subset", "0"], "--subset must be >= 1"),
        (["--lr-ae", "0"], "--lr-ae must be > 0.0"),
        (["--lr-disc=-1e-3"], "--lr-disc must be > 0.0"),
        (["--lambda1", "inf"], "--lambda1 must be a finite number"),
        (["--lambda2", "-1"], "--lambda2 must be >= 0.0"),
        (["--d-steps", "0"], "--d-steps must be >= 1"),
        (["--filters", "8", "0", "16"], "--filters takes widths >= 1"),
        (["--init-target-intervals", "-1"], "--init-target-intervals must be >= 0"),
    ],
)
def test_a_bad_value_stops_the_script_before_any_work(argv, message, capsys, monkeypatch):
    from tfdeepclust import runner

    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded before the options were checked")

    monkeypatch.setattr(runner, "prepare_data", no_data)
    assert main(get_recipe("asc2d"), argv) == 2
    assert message in capsys.readouterr().out


@pytest.mark.parametrize(
    "method, argv, message",
    [
        ("adec", ["--momentum", "1.0"], "--momentum must be < 1"),
        ("adec", ["--lr-cluster", "0"], "--lr-cluster must be > 0.0"),
        ("adec", ["--hidden", "500", "-1"], "--hidden takes widths >= 1"),
        ("dfvc", ["--lr", "0"], "--lr must be > 0.0"),
        ("dfvc", ["--latent-dim", "0"], "--latent-dim must be >= 1"),
        ("dfvc", ["--beta", "-0.5"], "--beta must be >= 0.0"),
    ],
)
def test_method_options_of_every_script_are_checked(method, argv, message, capsys):
    assert main(get_recipe(method), argv) == 2
    assert message in capsys.readouterr().out


def test_a_sweep_checks_its_options_too(capsys):
    assert main(get_recipe("asc2d"), ["--tune", "--maxiter", "-5"]) == 2
    assert "--maxiter must be >= 0" in capsys.readouterr().out


@pytest.mark.parametrize("method", METHODS)
def test_defaults_presets_and_zero_valued_switches_pass(method):
    """The defaults, every preset and the documented 0 = off values are valid."""
    recipe = get_recipe(method)
    check_options(CommonConfig(), recipe.config_cls())
    for preset in getattr(recipe, "presets", {}).values():
        check_method_config(recipe.config_cls(**preset.get("config", {})))
    check_options(
        CommonConfig(pretrain_epochs=0, maxiter=0, collapse_patience=0, tol=0.0, cpu_replicas=0),
        recipe.config_cls(),
    )
    zero_means = getattr(recipe.config_cls, "ZERO_MEANS", ())
    if zero_means:
        check_method_config(dataclasses.replace(recipe.config_cls(), **{k: 0 for k in zero_means}))


def test_an_int_given_for_a_float_field_is_a_float_field():
    """The API passes lambda3=0 (an int) for a float field: 0 is a valid weight there."""
    cfg = get_recipe("asc2d").config_cls(lambda3=0, lambda1=1)
    check_method_config(cfg)


def test_api_raises_the_same_message():
    import tfdeepclust

    with pytest.raises(ValueError, match="--batch-size must be >= 1"):
        tfdeepclust.train("asc2d", "usps", batch_size=-3)
    with pytest.raises(ValueError, match="--verbose must be 0, 1 or 2"):
        tfdeepclust.train("asc2d", "usps", verbose=5)  # the CLI's argparse choices refuse it
