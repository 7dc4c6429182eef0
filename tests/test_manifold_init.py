"""UMAP + GMM initial clusters (N2D's step) and the targets they seed for the first intervals."""

import keras
import numpy as np
import pytest

from tfdeepclust.data.pipeline import make_train_dataset
from tfdeepclust.losses.dec import target_distribution
from tfdeepclust.methods.asc2d import ASC2D
from tfdeepclust.metrics import cluster_accuracy
from tfdeepclust.training.manifold_init import (
    initialise_from_manifold,
    umap_gmm_clusters,
    weighted_centres,
)
from tfdeepclust.training.target_refresh import TargetRefresh


def _blobs(n_per=100, k=3, dim=10, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10.0, size=(k, dim))
    z = np.concatenate([c + rng.normal(size=(n_per, dim)) for c in centres]).astype("float32")
    return z, np.repeat(np.arange(k), n_per)


def test_umap_gmm_recovers_separated_groups_and_is_deterministic():
    z, y = _blobs()
    labels, resp = umap_gmm_clusters(z, 3, seed=0)
    assert resp.shape == (300, 3) and resp.dtype == np.float32
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(labels, resp.argmax(axis=1))
    assert cluster_accuracy(y, labels) == 1.0
    labels_again, _ = umap_gmm_clusters(z, 3, seed=0)
    np.testing.assert_array_equal(labels, labels_again)


def test_weighted_centres_are_the_cluster_means_for_hard_responsibilities():
    z, y = _blobs(n_per=20)
    resp = np.eye(3, dtype=np.float32)[y]
    expected = np.stack([z[y == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(weighted_centres(z, resp), expected, rtol=1e-5, atol=1e-5)


def _model(x, k=3):
    m = ASC2D(x.shape[1:], k, filters=(4, 4, 4), disc_hidden=(8,))
    m.compile()
    m.attach_targets(len(x))
    return m


def _images(n=90):
    """Three groups of 8x8 images: a bright block in one of three places, plus noise."""
    rng = np.random.default_rng(0)
    x = rng.random((n, 8, 8, 1)).astype("float32") * 0.2
    y = np.arange(n) % 3
    for i, g in enumerate(y):
        x[i, 2 * g : 2 * g + 3, 2 * g : 2 * g + 3, 0] += 0.8
    return x, y


def test_initialisation_sets_centroids_and_first_targets():
    x, _ = _images()
    m = ASC2D(x.shape[1:], 3, filters=(4, 4, 4), disc_hidden=(8,))
    m.compile()  # no target store yet (a recipe's build before its clustering phase)
    labels = initialise_from_manifold(m, x, seed=0)
    store = m.target_store
    p = store.p.numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(store.labels_prev.numpy(), labels)
    np.testing.assert_array_equal(p.argmax(axis=1), labels)
    np.testing.assert_allclose(
        m.clustering.centroids.numpy(), weighted_centres(m.embed(x), p), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("hold", [0, 8])
def test_seeded_targets_are_kept_for_the_hold_then_eq4_takes_over(hold):
    x, _ = _images()
    m = _model(x)
    initialise_from_manifold(m, x, seed=0)
    seeded = m.target_store.p.numpy().copy()
    cb = TargetRefresh(x, 4, tol=0.0, maxiter=12, verbose=0, keep_initial_targets=hold)
    seen = []

    class Watch(keras.callbacks.Callback):
        """Runs right after the refresh of the same step: P and Eq. 4 of the current Q."""

        def on_train_batch_end(self, batch, logs=None):
            it = int(m.target_store.iteration.numpy())
            if cb.history_[-1]["iteration"] == it:  # a refresh ran at this step
                eq4 = target_distribution(m.soft_assign(x))
                seen.append((it, m.target_store.p.numpy().copy(), eq4))

    ds = make_train_dataset(x, 30, 0)
    m.fit(ds, epochs=4, steps_per_epoch=3, callbacks=[cb, Watch()], verbose=0)
    assert [h["iteration"] for h in cb.history_] == [0, 4, 8]
    assert cb.history_[0]["kept_targets"] is True  # iteration 0 keeps what the init set
    assert [it for it, _, _ in seen] == [4, 8]
    for it, p, eq4 in seen:
        entry = cb.history_[it // 4]
        if it < hold:
            np.testing.assert_array_equal(p, seeded)
            assert entry["kept_targets"] is True
        else:
            np.testing.assert_allclose(p, eq4, rtol=1e-4, atol=1e-6)
            assert "kept_targets" not in entry


def test_targets_from_q_at_iteration_zero_are_never_held():
    """k-means start: P is Eq. 4 of Q from the first refresh, whatever the hold says."""
    x, _ = _images()
    m = _model(x)
    m.init_centroids(x, seed=0, n_init=2)
    cb = TargetRefresh(x, 4, tol=0.0, maxiter=8, verbose=0, keep_initial_targets=100)
    m.fit(make_train_dataset(x, 30, 0), epochs=3, steps_per_epoch=3, callbacks=[cb], verbose=0)
    assert all("kept_targets" not in h for h in cb.history_)
    assert cb.holding_initial_targets(4) is False
