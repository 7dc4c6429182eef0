"""The committable pretraining backup: packed small, and a fit resumes from it elsewhere."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfdeepclust.methods.acai import ACAIAutoencoder
from tfdeepclust.nn.mlp_autoencoder import build_mlp
from tfdeepclust.training.portable_backup import (
    pack_backup,
    pack_weights,
    unpack_backup,
    unpack_weights,
)


def _acai(seed: int, lr: float = 3e-4) -> ACAIAutoencoder:
    keras.utils.set_random_seed(seed)
    enc = build_mlp((20,), (32,), 3, None, "glorot_uniform", name="encoder")
    dec = build_mlp((3,), (32,), 20, None, "glorot_uniform", name="decoder")
    critic = build_mlp((20,), (32,), 10, None, "glorot_uniform", name="critic")
    model = ACAIAutoencoder(enc, dec, critic, seed=seed)
    model.compile(keras.optimizers.Adam(lr), keras.optimizers.Adam(lr))
    return model


def _data() -> tf.data.Dataset:
    x = np.random.default_rng(0).random((64, 20)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(x).batch(16).repeat()


def _fit(model, epochs: int, backup_dir, *callbacks) -> None:
    """4 steps per epoch with a BackupAndRestore folder (first, so later callbacks see a
    restored state)."""
    backup = keras.callbacks.BackupAndRestore(str(backup_dir), delete_checkpoint=False)
    model.fit(
        _data(),
        epochs=epochs,
        steps_per_epoch=4,
        verbose=0,
        shuffle=False,
        callbacks=[backup, *callbacks],
    )


class _Record(keras.callbacks.Callback):
    """What the fit started from (after BackupAndRestore, which runs first) and which epochs ran."""

    def on_train_begin(self, logs=None):
        self.start = [w.numpy().copy() for w in self.model.weights]
        self.iterations = int(self.model.optimizer.iterations.numpy())
        self.moments = [v.numpy().copy() for v in self.model.optimizer.variables[2:]]
        self.lr = float(self.model.optimizer.learning_rate.numpy())
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_a_fit_continues_from_a_packed_backup_with_float16_weights_and_fresh_optimizers(
    tmp_path,
):
    first = _acai(seed=0)
    _fit(first, 2, tmp_path / "b")
    trained = [w.numpy().copy() for w in first.weights]
    assert int(first.optimizer.iterations.numpy()) == 8  # moments exist and are not zero

    size = pack_backup(tmp_path / "b", tmp_path / "packed.npz")
    assert size < (tmp_path / "b" / "latest.weights.h5").stat().st_size / 2
    assert unpack_backup(tmp_path / "packed.npz", tmp_path / "elsewhere") == {
        "epoch": 2,
        "batch": 0,
    }

    second, record = _acai(seed=7), _Record()  # other initial weights: the restore must set them
    _fit(second, 3, tmp_path / "elsewhere", record)
    assert record.epochs == [2]  # epochs 0 and 1 came from the backup
    assert len(record.start) == len(trained)
    for got, want in zip(record.start, trained, strict=True):
        assert np.array_equal(got, want.astype(np.float16).astype(want.dtype))
        if want.dtype.kind == "f" and want.size > 1:
            assert np.abs(got - want).max() <= 1e-3 * max(1.0, np.abs(want).max())
    assert record.iterations == 0 and record.lr == pytest.approx(3e-4)
    assert all(not m.any() for m in record.moments)


def test_weights_round_trip_through_a_packed_file(tmp_path):
    model = _acai(seed=1)
    big = model.encoder.weights[0]
    big.assign(big.numpy() + 1e6)  # beyond float16's range: kept exactly
    model.encoder.save_weights(tmp_path / "enc.weights.h5")
    pack_weights(tmp_path / "enc.weights.h5", tmp_path / "enc.npz", {"note": "x"})
    assert unpack_weights(tmp_path / "enc.npz", tmp_path / "back.weights.h5") == {"note": "x"}
    other = _acai(seed=2).encoder
    other.load_weights(tmp_path / "back.weights.h5")
    for got, want in zip(other.weights, model.encoder.weights, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_array_equal(other.weights[0].numpy(), big.numpy())
