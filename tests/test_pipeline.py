"""tf.data pipelines and augmentation (docs/methods.md §5.3, §5.9)."""

import numpy as np
import pytest

from tfdeepclust.data.augment import PRESETS, build_augmenter
from tfdeepclust.data.pipeline import make_train_dataset


def test_batches_carry_their_sample_ids():
    x = np.arange(50 * 4, dtype="float32").reshape(50, 2, 2, 1)
    ds = make_train_dataset(x, 16, seed=0)
    seen = []
    for xb, idx in ds.take(8):
        np.testing.assert_array_equal(xb.numpy(), x[idx.numpy()])
        seen.extend(idx.numpy().tolist())
    assert set(seen[:50]) == set(range(50))  # first pass covers each sample once
    assert seen[:50] != list(range(50))  # shuffled


def test_target_rows_follow_samples_whatever_the_order():
    import tensorflow as tf

    x = np.random.default_rng(0).random((30, 3)).astype("float32")
    p = tf.constant(np.random.default_rng(1).dirichlet(np.ones(4), 30).astype("float32"))
    for seed in (0, 1):
        for xb, idx in make_train_dataset(x, 7, seed=seed).take(5):
            rows = tf.gather(p, idx).numpy()
            np.testing.assert_array_equal(
                rows, p.numpy()[np.searchsorted(np.arange(30), idx.numpy())]
            )
            np.testing.assert_array_equal(xb.numpy(), x[idx.numpy()])


def test_shuffle_is_seeded():
    x = np.arange(40, dtype="float32").reshape(40, 1)
    a = [i.numpy().tolist() for _, i in make_train_dataset(x, 8, seed=3).take(5)]
    b = [i.numpy().tolist() for _, i in make_train_dataset(x, 8, seed=3).take(5)]
    c = [i.numpy().tolist() for _, i in make_train_dataset(x, 8, seed=4).take(5)]
    assert a == b and a != c


@pytest.mark.parametrize("preset,channels", [("dec", 1), ("dfvc_grey", 1), ("dfvc_colour", 3)])
def test_augmentation_deterministic_under_seed(preset, channels):
    rng = np.random.default_rng(0)
    x = rng.random((64, 16, 16, channels)).astype("float32")

    def run(seed):
        aug = build_augmenter(preset, seed, channels)
        ds = make_train_dataset(x, 16, seed=0, augmenter=aug)
        return np.concatenate([xb.numpy() for xb, _ in ds.take(4)])

    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.shape == (64, 16, 16, channels)
    assert a.min() >= 0.0 and a.max() <= 1.0 + 1e-6
    clean = np.concatenate([xb.numpy() for xb, _ in make_train_dataset(x, 16, 0).take(4)])
    assert not np.allclose(a, clean)


@pytest.mark.parametrize("preset,channels", [("dec", 1), ("dfvc_grey", 1), ("dfvc_colour", 3)])
def test_augmentation_strength_scales_the_views_difference(preset, channels):
    rng = np.random.default_rng(0)
    # Smooth images: a geometric move of a blob changes many pixels, as on digits.
    yy, xx = np.mgrid[:16, :16]
    centres = rng.uniform(5, 11, size=(64, 2))
    blobs = np.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / 8)
    x = np.repeat(blobs[..., None], channels, -1).astype("float32")
    if channels == 3:
        x = x * rng.uniform(0.3, 1.0, size=(64, 1, 1, 3)).astype("float32")

    def change(strength):
        out = build_augmenter(preset, 3, channels, strength)(x, training=True)
        return float(np.mean(np.abs(np.asarray(out) - x)))

    # More strength, larger change; strength 0 is the identity, except the colour preset's
    # horizontal flip, which has no magnitude to scale.
    none, weak, strong = change(0.0), change(0.5), change(2.0)
    assert none < weak < strong
    if preset != "dfvc_colour":
        assert none < 1e-4
    with pytest.raises(ValueError, match="strength"):
        build_augmenter(preset, 0, channels, -1.0)


def test_augmenter_usable_inside_a_tf_function():
    import tensorflow as tf

    aug = build_augmenter("dec", 0)
    f = tf.function(lambda t: aug(t, training=True))
    out = f(tf.ones((4, 16, 16, 1)))
    assert out.shape == (4, 16, 16, 1)


def test_presets_and_unknown():
    assert build_augmenter("none", 0) is None
    assert set(PRESETS) >= {"none", "dec"}
    with pytest.raises(ValueError):
        build_augmenter("bogus", 0)
    with pytest.raises(ValueError, match="3-channel"):
        build_augmenter("dfvc_colour", 0, channels=1)
