"""ACC / NMI / ARI and label-free figures (docs/methods.md §5.6)."""

import numpy as np
import pytest

from tfdeepclust.metrics import (
    cluster_accuracy,
    hungarian_map,
    label_free_metrics,
    supervised_metrics,
)


def test_acc_is_one_for_any_relabelling():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=500)
    perm = rng.permutation(10)
    m = supervised_metrics(y, perm[y])
    assert m["acc"] == 1.0
    assert m["nmi"] == pytest.approx(1.0) and m["nmi_geometric"] == pytest.approx(1.0)
    assert m["ari"] == pytest.approx(1.0)


def test_acc_hand_value_and_permutation_invariance():
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    yhat = np.array([1, 1, 0, 0, 0, 0, 2, 2])  # best map 1->0, 0->1, 2->2: 7 of 8 right
    assert cluster_accuracy(y, yhat) == pytest.approx(7 / 8)
    assert cluster_accuracy(y, (yhat + 1) % 3) == pytest.approx(7 / 8)


def test_acc_with_more_clusters_than_classes():
    y = np.array([0, 0, 1, 1])
    yhat = np.array([0, 1, 2, 3])
    assert cluster_accuracy(y, yhat) == pytest.approx(0.5)
    assert cluster_accuracy(y, np.array([5, 5, 9, 9])) == 1.0  # arbitrary cluster ids


def test_nmi_arithmetic_not_above_geometric():
    rng = np.random.default_rng(1)
    for _ in range(5):
        y, yhat = rng.integers(0, 4, 200), rng.integers(0, 6, 200)
        m = supervised_metrics(y, yhat)
        assert m["nmi"] <= m["nmi_geometric"] + 1e-12


def test_hungarian_map():
    y = np.array([0, 0, 1, 1, 2])
    yhat = np.array([2, 2, 0, 0, 1])
    np.testing.assert_array_equal(hungarian_map(y, yhat, 3), [1, 2, 0])


def test_label_free_figures():
    labels = np.array([0] * 90 + [1] * 10)
    proba = np.eye(3)[labels]
    emb = np.vstack([np.zeros((90, 2)), np.ones((10, 2)) * 5]) + np.random.default_rng(0).normal(
        scale=0.01, size=(100, 2)
    )
    out = label_free_metrics(labels, 3, proba, emb)
    assert out["cluster_sizes"] == [90, 10, 0]
    assert out["empty_clusters"] == 1
    assert out["largest_cluster_frac"] == pytest.approx(0.9)
    assert out["assignment_entropy"] == pytest.approx(0.0, abs=1e-9)
    assert 0 < out["size_entropy"] < 1
    assert out["silhouette"] > 0.9
    assert out["degenerate"] == "collapsed"  # 90 % in one cluster
    assert label_free_metrics(np.array([0] * 80 + [1] * 20), 3)["degenerate"] == "empty_clusters"
    balanced = label_free_metrics(np.arange(300) % 3, 3)
    assert balanced["size_entropy"] == pytest.approx(1.0)
    assert balanced["degenerate"] is None
    single = label_free_metrics(np.zeros(10, int), 2, embedding=np.ones((10, 2)))
    assert single["silhouette"] is None
