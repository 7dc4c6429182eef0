"""benchmarks/dfvc_restarts.py: the start is chosen by I(y, y′) alone, then continued."""

import json
import sys

import pytest
from helpers import load_benchmark


@pytest.fixture()
def restarts(tmp_path, monkeypatch):
    module = load_benchmark("dfvc_restarts")
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    return module


def _result(iic, acc, key="iic_k"):
    return {
        "epoch_losses": {key: [0.5, iic]},
        "metrics": {"acc": acc, "nmi": acc},
        "convergence": {"n_iter": 80},
    }


def test_the_choice_reads_the_last_epochs_mi_not_the_labels(restarts):
    # Seed 1 has the best ACC, seed 2 the best I(y, y′): the choice must not see the ACC.
    starts = {0: _result(2.01, 0.80), 1: _result(2.05, 0.97), 2: _result(2.09, 0.90)}
    choice = restarts.choose(starts)
    assert choice["chosen_seed"] == 2
    assert [r["seed"] for r in choice["starts"]] == [0, 1, 2]
    assert choice["starts"][1]["acc"] == 0.97  # reported, for evaluation
    # With sub-heads, the read head's I(y, y′) decides, not the mean over sub-heads.
    with_heads = _result(1.0, 0.5)
    with_heads["epoch_losses"]["iic_k_read"] = [0.5, 2.5]
    assert restarts.choose({**starts, 3: with_heads})["chosen_seed"] == 3
    with pytest.raises(ValueError, match="I\\(y, y′\\)"):
        restarts.selection_score({"epoch_losses": {}})


def test_the_chosen_start_continues_from_its_screening_folder(restarts, tmp_path, monkeypatch):
    calls = []

    def fake_reproduce(args, seed, tag, flags, deadline):
        calls.append((seed, tag, flags))
        if tag.endswith("-screen"):
            path = tmp_path / f"dfvc-{tag}_{args.dataset}_seed{seed}.json"
            path.write_text(json.dumps(_result({0: 2.0, 1: 2.2, 2: 2.1}[seed], 0.9)))
        return 0

    monkeypatch.setattr(restarts, "_reproduce", fake_reproduce)
    argv = ["x", "--dataset", "mnist", "--seeds", "0", "1", "2", "--screen-iters", "40"]
    monkeypatch.setattr(sys, "argv", [*argv, "--tag", "t", "--", "--lr", "1e-3"])
    assert restarts.main() == 0
    screens, final = calls[:3], calls[3]
    assert all(f == ["--lr", "1e-3", "--maxiter", "40"] for _, _, f in screens)
    assert final == (
        1,
        "t",
        ["--lr", "1e-3", "--output-dir", "runs/bench/dfvc-t-screen_mnist_seed1"],
    )
    choice = json.loads((tmp_path / "dfvc-t-choice_mnist.json").read_text())
    assert choice["chosen_seed"] == 1 and len(choice["starts"]) == 3
    assert choice["command"][0] == "benchmarks/dfvc_restarts.py"
