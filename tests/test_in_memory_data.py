"""from_arrays: NumPy arrays and tf.data datasets become the same ClusteringData as files do."""

import numpy as np
import pytest
import tensorflow as tf

from tfdeepclust.data import DataError, from_arrays


def _digits(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, 8, 8)) * 255).astype("uint8"), np.arange(n) % 3


def test_uint8_images_get_a_channel_axis_and_are_scaled_like_npz_files(tmp_path):
    from tfdeepclust.data import load_dataset

    x, y = _digits()
    data = from_arrays(x, y)
    assert data.x.shape == (50, 8, 8, 1) and data.x.dtype == np.float32
    np.testing.assert_allclose(data.x[..., 0], x / 255.0, rtol=1e-6)
    assert data.info["input_scale"] == pytest.approx(1 / 255)
    assert data.n_clusters == 3 and data.y.dtype == np.int64 and data.name == "arrays"
    np.savez(tmp_path / "d.npz", x=x, y=y)
    assert load_dataset(f"npz:{tmp_path / 'd.npz'}").sha256 == data.sha256  # same arrays


@pytest.mark.parametrize(
    "make",
    [
        lambda x, y: tf.data.Dataset.from_tensor_slices((x, y)).batch(7),  # batched tuples
        lambda x, y: tf.data.Dataset.from_tensor_slices((x, y)),  # one sample per element
        lambda x, y: tf.data.Dataset.from_tensor_slices({"image": x[..., None], "label": y}),
    ],
    ids=["batched", "unbatched", "tfds_dict"],
)
def test_a_tf_data_dataset_gives_the_same_data_as_its_arrays(make):
    x, y = _digits()
    data = from_arrays(make(x, y))
    assert data.sha256 == from_arrays(x, y).sha256
    assert data.info["source"] == "tf.data"


def test_a_fixed_size_batched_dataset_needs_batched_true():
    x, y = _digits(n=49)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(7, drop_remainder=True)
    assert from_arrays(ds, batched=True).sha256 == from_arrays(x, y).sha256


def test_unlabelled_samples_need_n_clusters():
    x, _ = _digits()
    with pytest.raises(DataError, match="pass n_clusters"):
        from_arrays(tf.data.Dataset.from_tensor_slices(x).batch(16))
    data = from_arrays(tf.data.Dataset.from_tensor_slices(x).batch(16), n_clusters=4)
    assert data.y is None and data.n_clusters == 4


def test_string_labels_are_numbered_and_named():
    x = np.random.default_rng(0).random((20, 5))
    data = from_arrays(x, np.array(["dog", "cat"] * 10))
    assert data.y.tolist()[:2] == [1, 0] and data.info["label_names"] == ["cat", "dog"]
    ds = tf.data.Dataset.from_tensor_slices((x, np.array(["dog", "cat"] * 10)))
    assert from_arrays(ds).info["label_names"] == ["cat", "dog"]


@pytest.mark.parametrize(
    "x, y, kwargs, message",
    [
        (np.zeros(10), None, {"n_clusters": 2}, "expected \\[N, D\\] features"),
        (np.full((10, 3), np.nan), None, {"n_clusters": 2}, "contain NaN or inf"),
        (np.zeros((10, 3)), np.arange(9) % 2, {}, "9 labels for 10 samples"),
        (np.array([["a", "b"]] * 4), None, {"n_clusters": 2}, "expected numbers"),
    ],
)
def test_bad_arrays_fail_with_the_fix(x, y, kwargs, message):
    with pytest.raises(DataError, match=message):
        from_arrays(x, y, **kwargs)


def test_labels_given_twice_are_refused():
    x, y = _digits()
    with pytest.raises(DataError, match="pass one of them"):
        from_arrays(tf.data.Dataset.from_tensor_slices((x, y)), y)
