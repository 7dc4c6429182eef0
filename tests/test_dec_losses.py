"""Closed-form checks of the shared DEC blocks: Q (Eq. 3), P (Eq. 4), KL (docs/methods.md
§5.1-5.4)."""

import numpy as np
import pytest
import tensorflow as tf

from tfdeepclust.losses.dec import kl_divergence, target_distribution
from tfdeepclust.nn.clustering import ClusteringLayer, student_t_assignment


def test_student_t_closed_form_two_points_two_centroids():
    z = np.array([[0.0, 0.0], [3.0, 4.0]], dtype="float32")
    mu = np.array([[0.0, 0.0], [0.0, 1.0]], dtype="float32")
    q = np.asarray(student_t_assignment(z, mu, alpha=1.0))
    # Point 0: distances² 0 and 1 -> kernels 1 and 1/2 -> q = (2/3, 1/3).
    # Point 1: distances² 25 and 18 -> kernels 1/26 and 1/19.
    k = np.array([1 / 26, 1 / 19])
    np.testing.assert_allclose(q[0], [2 / 3, 1 / 3], rtol=1e-6)
    np.testing.assert_allclose(q[1], k / k.sum(), rtol=1e-6)


def test_student_t_rows_sum_to_one_and_permute_with_centroids():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(50, 5)).astype("float32")
    mu = rng.normal(size=(4, 5)).astype("float32")
    q = np.asarray(student_t_assignment(z, mu))
    assert (q > 0).all() and (q <= 1).all()
    np.testing.assert_allclose(q.sum(1), 1.0, atol=1e-6)
    perm = [2, 0, 3, 1]
    np.testing.assert_allclose(np.asarray(student_t_assignment(z, mu[perm])), q[:, perm], rtol=1e-6)


def test_student_t_general_alpha_matches_formula():
    z = np.array([[1.0, 2.0]], dtype="float32")
    mu = np.array([[0.0, 0.0], [1.0, 1.0]], dtype="float32")
    a = 3.0
    k = (1 + np.array([5.0, 1.0]) / a) ** (-(a + 1) / 2)
    np.testing.assert_allclose(
        np.asarray(student_t_assignment(z, mu, a))[0], k / k.sum(), rtol=1e-6
    )


def test_student_t_far_points_stay_finite():
    z = np.array([[1e6, -1e6]], dtype="float32")
    mu = np.zeros((3, 2), dtype="float32")
    q = np.asarray(student_t_assignment(z, mu))
    assert np.isfinite(q).all()
    np.testing.assert_allclose(q.sum(), 1.0, atol=1e-6)


def test_clustering_layer_set_centroids_and_config_roundtrip():
    layer = ClusteringLayer(3, alpha=2.0)
    layer.build((None, 4))
    c = np.arange(12, dtype="float32").reshape(3, 4)
    layer.set_centroids(c)
    np.testing.assert_array_equal(np.asarray(layer.centroids), c)
    clone = ClusteringLayer.from_config(layer.get_config())
    assert clone.n_clusters == 3 and clone.alpha == 2.0


def test_target_distribution_hand_value():
    q = np.array([[0.8, 0.2], [0.4, 0.6]])
    f = q.sum(0)  # 1.2, 0.8
    w = q**2 / f
    expected = w / w.sum(1, keepdims=True)
    np.testing.assert_allclose(target_distribution(q), expected)
    np.testing.assert_allclose(target_distribution(q).sum(1), 1.0)


def test_target_sharpens_with_equal_frequencies():
    rng = np.random.default_rng(1)
    q = rng.dirichlet(np.ones(4), size=8)
    q = np.vstack([q, q[:, [1, 2, 3, 0]], q[:, [2, 3, 0, 1]], q[:, [3, 0, 1, 2]]])  # equal f_j
    np.testing.assert_allclose(q.sum(0), q.sum(0)[0])
    p = target_distribution(q)
    np.testing.assert_array_equal(p.argmax(1), q.argmax(1))
    assert (p.max(1) >= q.max(1) - 1e-12).all()


def test_target_depends_on_samples_outside_the_batch():
    rng = np.random.default_rng(2)
    q = rng.dirichlet(np.ones(3), size=20)
    p = target_distribution(q)
    q2 = q.copy()
    q2[-1] = [0.98, 0.01, 0.01]  # change one sample that is not in "the batch" (rows 0..4)
    assert not np.allclose(target_distribution(q2)[:5], p[:5])


def test_kl_nonnegative_and_zero_iff_equal():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(5), size=10).astype("float32")
    q = rng.dirichlet(np.ones(5), size=10).astype("float32")
    assert (np.asarray(kl_divergence(p, q)) > 0).all()
    np.testing.assert_allclose(np.asarray(kl_divergence(p, p)), 0.0, atol=1e-6)


def test_kl_gradients_match_dec_closed_form():
    """∂L/∂z_i and ∂L/∂mu_j of docs/methods.md §1.3 (nu = 1), L = mean_i KL(p_i || q_i)."""
    rng = np.random.default_rng(4)
    B, K, d = 6, 3, 2
    z = tf.Variable(rng.normal(size=(B, d)))
    mu = tf.Variable(rng.normal(size=(K, d)))
    p = tf.constant(rng.dirichlet(np.ones(K), size=B))
    with tf.GradientTape() as tape:
        q = student_t_assignment(z, mu, 1.0)
        loss = tf.reduce_mean(kl_divergence(p, q))
    gz, gmu = tape.gradient(loss, [z, mu])
    zn, mun, pn, qn = z.numpy(), mu.numpy(), p.numpy(), q.numpy()
    diff = zn[:, None, :] - mun[None, :, :]  # [B, K, d]
    kern = 1.0 / (1.0 + (diff**2).sum(-1))  # [B, K]
    coef = (kern * (pn - qn))[..., None] * diff
    np.testing.assert_allclose(gz.numpy(), 2.0 / B * coef.sum(1), rtol=1e-5)
    np.testing.assert_allclose(gmu.numpy(), -2.0 / B * coef.sum(0), rtol=1e-5)


@pytest.mark.parametrize("n_init", [1, 5])
def test_kmeans_init_sets_centroids(n_init):
    from tfdeepclust.training.kmeans import kmeans_init

    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(loc=c, scale=0.1, size=(30, 2)) for c in ([0, 0], [5, 5], [0, 5])])
    centres, labels = kmeans_init(x, 3, seed=0, n_init=n_init)
    assert centres.shape == (3, 2) and len(np.unique(labels)) == 3
    layer = ClusteringLayer(3)
    layer.build((None, 2))
    layer.set_centroids(centres)
    np.testing.assert_allclose(np.asarray(layer.centroids), centres)
