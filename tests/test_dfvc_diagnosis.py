"""benchmarks/dfvc_diagnosis.py: each variant is a valid command, and the table reads the JSONs."""

import json

import pytest
from helpers import load_benchmark

from tfdeepclust.api import get_recipe
from tfdeepclust.cli import parse_args, recipe_parser


@pytest.fixture(scope="module")
def diagnosis():
    return load_benchmark("dfvc_diagnosis")


def test_every_variant_changes_one_thing_against_the_reference(diagnosis):
    recipe = get_recipe("dfvc")
    parser = recipe_parser(recipe)

    def config(variant):
        return parse_args(parser, recipe.config_cls, diagnosis.train_args(variant))

    _, reference = config("ref")
    assert reference.lr == 1e-3 and reference.filters == (16, 32, 64, 128)
    _, half = config(diagnosis.HALF)
    assert half.augment_strength == 0.5
    for variant in diagnosis.VARIANTS:
        common, cfg = config(variant)
        assert common.maxiter == diagnosis.EPOCHS * diagnosis.ITERS_PER_EPOCH
        # The second round's variants change one thing against the half-strength setting.
        base = reference
        if variant.startswith(f"{diagnosis.HALF}-"):
            base = half
        changed = {k for k, v in vars(cfg).items() if v != getattr(base, k)}
        # Pairs of switches, and the width (conv filters, FC and critics scale together).
        expected = {
            "ref": 0,
            "no-dmi": 2,
            "dmi-only": 3,
            "aug-x0.5-no-dmi": 2,
            "half-width": 3,
        }.get(variant, 1)
        assert len(changed) == expected, (variant, changed)


def _history(accs):
    return [
        {"iteration": 40 * i, "acc": a, "nmi": a, "delta_label": 0.05} for i, a in enumerate(accs)
    ]


def test_the_table_shows_the_curve_and_the_label_free_signals(diagnosis, tmp_path, monkeypatch):
    monkeypatch.setattr(diagnosis, "RESULTS", tmp_path)
    result = {
        "n_clusters": 10,
        "history": _history([0.1, 0.5, 0.6, 0.7, 0.7, 0.75] + [0.8] * 19),
        "metrics": {"acc": 0.81, "nmi": 0.8},
        "label_free": {"smallest_cluster_frac": 0.05, "largest_cluster_frac": 0.2},
        "epoch_losses": {"iic_k": [1.0, 2.04], "l_vec": [3.0, 1.5]},
        "convergence": {"stop_reason": "maxiter"},
        "wall_time_s": {"cluster": 240.0},
    }
    diagnosis.result_path("ref").write_text(json.dumps(result))
    assert diagnosis.summarise("no-vec") is None  # not run yet
    row = diagnosis.summarise("ref")
    assert row["acc_by_epoch"][1] == 0.5 and row["acc_by_epoch"][24] == 0.8
    table = diagnosis.markdown([row])
    line = table.splitlines()[-1]
    assert line.startswith("| `ref`") and "**0.810** / 0.800" in line
    assert "2.04 / 2.30" in line and "5.0% / 20.0%" in line
    # Another seed of the same variant is its own file and its own, labelled row.
    assert diagnosis.summarise("ref", seed=1) is None
    diagnosis.result_path("ref", 1).write_text(json.dumps(result))
    seeded = diagnosis.markdown([diagnosis.summarise("ref", seed=1)]).splitlines()[-1]
    assert seeded.startswith("| `ref` (seed 1)")
    # With sub-heads, I(y, y′) is the read head's, not the mean over sub-heads.
    result["epoch_losses"]["iic_k_read"] = [1.0, 2.21]
    diagnosis.result_path("heads5").write_text(json.dumps(result))
    assert "2.21 / 2.30" in diagnosis.markdown([diagnosis.summarise("heads5")])
