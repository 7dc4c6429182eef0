"""tfdeepclust.train: one Python call trains any method on in-memory data, like the scripts."""

import json

import numpy as np
import pytest
from helpers import tiny_images

import tfdeepclust


def _outputs(tmp_path):
    return dict(
        output_dir=str(tmp_path / "run"),
        export_dir=str(tmp_path / "saved_models"),
        pretrain_cache_dir=str(tmp_path / "pretrained"),
        verbose=0,
    )


def test_train_on_uint8_arrays_writes_the_run_and_returns_labels_and_the_model(tmp_path):
    data = tiny_images()
    raw = np.round(data.x[..., 0] * 255).astype("uint8")  # what a user holds: [N, H, W] bytes
    res = tfdeepclust.train(
        "asc2d", raw, data.y, budget="quick", lambda1=0.2, name="bars", **_outputs(tmp_path)
    )
    assert res["dataset"] == "bars" and res["n_samples"] == 64
    assert res["labels"].shape == (64,) and res["metrics"]["acc"] is not None
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["config"]["asc2d.lambda1"] == 0.2 and saved["data_info"]["source"] == "arrays"
    assert "labels" not in saved and "model" not in saved
    # The returned model labels new data the way the run labelled its own ([0, 1] floats).
    np.testing.assert_array_equal(res["model"].predict(raw[..., None] / 255.0), res["labels"])
    assert saved["export_path"].startswith(str(tmp_path / "saved_models" / "asc2d_bars"))


def test_a_preset_fills_only_what_the_call_leaves_unset(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(60, 6)) + 5.0 * np.repeat(np.eye(3, 6), 20, axis=0)).astype("float32")
    res = tfdeepclust.train(
        "adec",
        x,
        n_clusters=3,
        preset="decda",
        mode="dec",
        pretrain_epochs=2,
        maxiter=20,
        export=False,
        **_outputs(tmp_path),
    )
    cfg = res["config"]
    assert cfg["adec.lr_pretrain"] == 1.0 and cfg["adec.pretrain_optimizer"] == "sgd"  # preset
    assert cfg["pretrain_epochs"] == 2 and cfg["preset"] == "decda"  # the call wins
    assert res["metrics"]["acc"] is None and res["n_clusters"] == 3


def test_an_unknown_option_is_refused_with_the_closest_name():
    with pytest.raises(TypeError, match="'lamda1' \\(did you mean 'lambda1'\\?\\)"):
        tfdeepclust.train("asc2d", "usps", lamda1=0.3)
    with pytest.raises(ValueError, match="method must be one of"):
        tfdeepclust.train("dec", "usps")
    with pytest.raises(ValueError, match="carry their own labels"):
        tfdeepclust.train("asc2d", "usps", np.zeros(9298, int))


def _tags(folder):
    """Every scalar tag written to the TensorBoard event files below ``folder``."""
    import tensorflow as tf

    tags = set()
    for f in folder.rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(f)):
            tags.update(v.tag for v in event.summary.value)
    return tags


def test_tensorboard_gets_losses_refresh_figures_and_fr_fd(tmp_path):
    data = tiny_images()
    tfdeepclust.train(
        "adec",
        data,
        mode="adec",
        budget="quick",
        maxiter=20,
        update_interval=10,
        tensorboard=True,
        export=False,
        **_outputs(tmp_path),
    )
    board = tmp_path / "run" / "tensorboard"
    assert "epoch_loss" in _tags(board / "pretrain")
    assert {"epoch_loss", "epoch_l_kl"} <= _tags(board / "cluster" / "train")
    refresh = _tags(board / "cluster" / "refresh")
    assert {"refresh/acc", "refresh/size_entropy", "refresh/delta_label"} <= refresh
    assert {"diagnostics/fr", "diagnostics/fd"} <= refresh  # ADEC's FR/FD (Eqs. 5-6)
