"""DFVC's loss terms against hand-computed values (docs/methods.md §5, invariants 20-23)."""

import math

import numpy as np
import pytest
from keras import ops

from tfdeepclust.losses.dfvc import cluster_size_regulariser, expected_vec_loss, vec_loss
from tfdeepclust.losses.mutual_info import iic_mi, joint_distribution, jsd_mi


def _f(t):
    return float(ops.convert_to_numpy(t))


def test_jsd_value_on_a_hand_made_score_matrix():
    # Scores T(u_i, v_j) of a 3-sample batch: diagonal = positives, the rest negatives.
    t = np.array([[2.0, -1.0, 0.5], [-0.5, 1.5, -2.0], [0.0, -1.0, 3.0]], "float32")
    pos = np.diag(t)
    neg = t[~np.eye(3, dtype=bool)].reshape(3, 2)
    sp = lambda v: np.log1p(np.exp(v))  # noqa: E731
    expected = -sp(-pos).mean() - sp(neg).mean()
    assert _f(jsd_mi(pos, neg)) == pytest.approx(expected, rel=1e-6)
    assert expected < 0


def test_jsd_bounds_and_monotonicity():
    zeros = np.zeros((8,), "float32")
    assert _f(jsd_mi(zeros, zeros)) == pytest.approx(-2 * math.log(2), rel=1e-6)
    base = _f(jsd_mi(zeros, zeros))
    assert _f(jsd_mi(zeros + 1.0, zeros)) > base  # positives up
    assert _f(jsd_mi(zeros, zeros - 1.0)) > base  # negatives down
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert _f(jsd_mi(rng.normal(size=(4, 3, 3)), rng.normal(size=(4, 3, 3)))) <= 0.0


def _probs(rng, n, k):
    p = rng.random((n, k)).astype("float32")
    return p / p.sum(1, keepdims=True)


def test_iic_joint_and_bounds():
    rng = np.random.default_rng(1)
    p1, p2 = _probs(rng, 50, 5), _probs(rng, 50, 5)
    joint = ops.convert_to_numpy(joint_distribution(p1, p2))
    np.testing.assert_allclose(joint, joint.T, atol=1e-7)
    assert (joint >= 0).all() and joint.sum() == pytest.approx(1.0, abs=1e-5)
    i = _f(iic_mi(p1, p2))
    assert 0.0 <= i <= math.log(5)
    assert -i >= -math.log(5)


def test_iic_is_log_k_for_confident_balanced_consistent_views():
    k = 4
    onehot = np.eye(k, dtype="float32")[np.repeat(np.arange(k), 10)]
    assert _f(iic_mi(onehot, onehot)) == pytest.approx(math.log(k), rel=1e-5)


def test_iic_is_zero_when_every_sample_has_the_same_distribution():
    p = np.tile(np.array([[0.7, 0.2, 0.1]], "float32"), (30, 1))
    assert _f(iic_mi(p, p)) == pytest.approx(0.0, abs=1e-6)


def test_vec_loss_against_a_hand_computed_value():
    z = np.array([[1.0, 2.0], [0.0, -1.0]], "float32")
    log_var = np.array([[0.0, np.log(4.0)], [np.log(0.25), 0.0]], "float32")
    pi = np.array([[0.25, 0.75], [1.0, 0.0]], "float32")
    mu_k = np.array([[0.0, 0.0], [1.0, 1.0]], "float32")
    # sample 1: -½(0 + log 4) + ½(0.25·5 + 0.75·1); sample 2: -½(log ¼) + ½(1·1)
    s1 = -0.5 * np.log(4.0) + 0.5 * (0.25 * 5 + 0.75 * 1)
    s2 = -0.5 * np.log(0.25) + 0.5 * 1.0
    assert _f(vec_loss(z, log_var, pi, mu_k, "sum")) == pytest.approx((s1 + s2) / 2, rel=1e-6)
    assert _f(vec_loss(z, log_var, pi, mu_k, "mean")) == pytest.approx((s1 + s2) / 4, rel=1e-6)
    with pytest.raises(ValueError, match="vec_reduction must be one of"):
        vec_loss(z, log_var, pi, mu_k, "max")


def test_vec_expectation_bound_and_monte_carlo():
    rng = np.random.default_rng(2)
    d, k = 6, 3
    mu = rng.normal(size=(1, d)).astype("float32")
    log_var = rng.normal(scale=0.5, size=(1, d)).astype("float32")
    pi = _probs(rng, 1, k)
    mu_k = rng.normal(size=(k, d)).astype("float32")
    closed = _f(expected_vec_loss(mu, log_var, pi, mu_k))
    assert closed >= d / 2
    eps = rng.normal(size=(20000, d)).astype("float32")
    z = mu + np.exp(0.5 * log_var) * eps
    mc = _f(vec_loss(z, np.repeat(log_var, 20000, 0), np.repeat(pi, 20000, 0), mu_k, "sum"))
    assert mc == pytest.approx(closed, rel=2e-2)
    # Equality: σ² = 1 and π on a component whose mean is μ_z.
    at_min = _f(
        expected_vec_loss(
            mu_k[:1], np.zeros((1, d), "float32"), np.eye(k, dtype="float32")[:1], mu_k
        )
    )
    assert at_min == pytest.approx(d / 2, rel=1e-6)


def test_cluster_size_regulariser():
    k = 4
    uniform_use = np.eye(k, dtype="float32")[np.repeat(np.arange(k), 5)]
    collapsed = np.eye(k, dtype="float32")[np.zeros(20, int)]
    # Zero (maximal cluster-size entropy) for uniform cluster sizes, log K when collapsed.
    assert _f(cluster_size_regulariser(uniform_use)) == pytest.approx(0.0, abs=1e-6)
    assert _f(cluster_size_regulariser(collapsed)) == pytest.approx(math.log(k), rel=1e-5)
    rng = np.random.default_rng(3)
    for _ in range(5):
        p = _probs(rng, 16, k)
        marginal = _f(cluster_size_regulariser(p, "marginal"))
        per_sample = _f(cluster_size_regulariser(p, "per_sample"))
        assert 0.0 <= marginal <= per_sample + 1e-6  # Jensen
    with pytest.raises(ValueError, match="reg_mode"):
        cluster_size_regulariser(uniform_use, "batch")
