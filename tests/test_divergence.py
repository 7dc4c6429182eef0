"""Non-finite losses stop training, keep the last good checkpoint and export nothing."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfdeepclust.methods.adec import DECStar
from tfdeepclust.training.checkpointing import ClusteringCheckpoint
from tfdeepclust.training.divergence import DivergenceGuard, TrainingDivergedError
from tfdeepclust.training.self_training import run_self_training

BREAK_AT = 8  # the step whose losses become NaN


class BreaksAtStep(DECStar):
    """A DEC* model whose weights and losses turn NaN at step ``BREAK_AT`` (a stand-in for an
    exploding learning rate, which real runs reach at unpredictable steps)."""

    def train_step(self, data):
        logs = super().train_step(data)
        broken = self.target_store.iteration + 1 >= BREAK_AT
        scale = tf.where(broken, float("nan"), 1.0)
        kernel = self.encoder.trainable_weights[0]
        kernel.assign(kernel * scale)
        return {k: v * scale for k, v in logs.items()}


def test_guard_flags_the_first_non_finite_log_only():
    guard = DivergenceGuard()

    class Model:
        stop_training = False

    guard.set_model(Model())
    guard.on_train_batch_end(0, {"loss": 1.0, "l_kl": 0.5})
    assert not guard.diverged
    guard.on_train_batch_end(1, {"loss": float("inf"), "l_kl": float("nan"), "note": "x"})
    guard.on_train_batch_end(2, {"loss": float("nan")})
    assert guard.diverged and guard.model.stop_training and guard.at_iteration == 2
    assert set(guard.bad_terms) == {"loss", "l_kl"}
    assert "iteration 2" in guard.describe()


def test_diverged_run_keeps_the_last_good_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((64, 6), dtype=np.float32)
    model = BreaksAtStep((6,), 3, hidden=(8, 8, 16))
    model.compile(optimizer="sgd")
    model.attach_targets(len(x))
    model.init_centroids(x, seed=0, n_init=2)
    ckpt = ClusteringCheckpoint(tmp_path / "ckpt", model)
    with pytest.raises(TrainingDivergedError, match=f"iteration {BREAK_AT}") as err:
        run_self_training(
            model,
            x,
            None,
            16,
            seed=0,
            update_interval=5,
            tol=0.0,
            maxiter=20,
            verbose=0,
            checkpoint=ckpt,
        )
    assert "last good checkpoint was kept" in str(err.value)
    # Checkpoints at iteration 5 (the last refresh before step 8), none at or after the NaN.
    assert ckpt.latest.endswith("ckpt-5")
    restored = BreaksAtStep((6,), 3, hidden=(8, 8, 16))
    restored.compile(optimizer="sgd")
    restored.attach_targets(len(x))
    it, _ = ClusteringCheckpoint(tmp_path / "ckpt", restored).restore()
    assert it == 5
    assert all(np.isfinite(w).all() for w in restored.get_weights())
    assert not math.isnan(float(restored.target_store.p.numpy().sum()))


def test_pretrained_weights_of_another_shape_are_a_clear_error(tmp_path):
    from tfdeepclust.data.dataset import DataError
    from tfdeepclust.nn.conv_autoencoder import build_conv_autoencoder
    from tfdeepclust.training.pretrain import fit_or_load

    def autoencoder(shape):
        enc, dec = build_conv_autoencoder(shape, 4, (4, 8, 8))
        return keras.Model(enc.input, dec(enc.output))

    grey = autoencoder((16, 16, 1))
    grey.save_weights(tmp_path / "grey.weights.h5")
    colour = autoencoder((16, 16, 3))
    with pytest.raises(DataError, match=r"do not fit this model \(input shape \(16, 16, 3\)\)"):
        fit_or_load(colour, colour, None, 1, 1, tmp_path / "grey.weights.h5")


def test_the_message_names_unscaled_features():
    from tfdeepclust.training.divergence import scale_hint

    raw = np.random.default_rng(0).normal(100.0, 5.0, size=(50, 4))
    assert "StandardScaler" in scale_hint(raw) and "--row-norm unit_l2" in scale_hint(raw)
    assert scale_hint(raw / 100.0) == ""  # features of order 1
    assert scale_hint(np.full((3, 8, 8, 1), 255.0)) == ""  # images are scaled by the data layer
