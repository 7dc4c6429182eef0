"""The full-data target refresh and the tol / maxiter stops (docs/methods.md §1.2, §1.4, §5.5)."""

import numpy as np
import pytest

from tfdeepclust.data.pipeline import make_train_dataset
from tfdeepclust.losses.dec import target_distribution
from tfdeepclust.methods.adec import DECStar
from tfdeepclust.methods.asc2d import ASC2D
from tfdeepclust.training.self_training import run_self_training
from tfdeepclust.training.target_refresh import TargetRefresh


def _tiny(x, k=3, **kw):
    m = ASC2D(x.shape[1:], k, filters=(4, 4, 4), disc_hidden=(8,), **kw)
    m.compile()
    m.init_centroids(x, seed=0, n_init=2)
    m.attach_targets(len(x))
    return m


def _data(n=60):
    return np.random.default_rng(0).random((n, 8, 8, 1)).astype("float32")


def test_refresh_every_t_and_stop_at_maxiter():
    x = _data()
    m = _tiny(x)
    cb = TargetRefresh(x, update_interval=4, tol=0.0, maxiter=10, verbose=0)
    m.fit(make_train_dataset(x, 16, 0), epochs=5, steps_per_epoch=4, callbacks=[cb], verbose=0)
    assert [h["iteration"] for h in cb.history_] == [0, 4, 8]
    assert cb.stop_reason_ == "maxiter" and not cb.converged_
    assert int(m.target_store.iteration.numpy()) == 10 == cb.n_iter_
    # The stored target is P of the full data at the last refresh, in sample-id order.
    assert cb.history_[0]["delta_label"] == 1.0
    assert all(0.0 <= h["delta_label"] <= 1.0 for h in cb.history_)
    # Every refresh logs the label-free health figures (docs/platform.md §7.6).
    for h in cb.history_:
        assert sum(h["cluster_sizes"]) == len(x) and len(h["cluster_sizes"]) == 3
        assert h["smallest_cluster_frac"] == min(h["cluster_sizes"]) / len(x)
        assert 0.0 <= h["size_entropy"] <= 1.0 and 0.0 <= h["assignment_entropy"] <= 1.0


def test_target_equals_full_data_p_at_refresh():
    x = _data()
    m = _tiny(x)
    cb = TargetRefresh(x, update_interval=100, tol=0.0, maxiter=1, verbose=0)
    cb.set_model(m)
    cb.on_train_begin()
    np.testing.assert_allclose(
        m.target_store.p.numpy(), target_distribution(m.soft_assign(x)), rtol=1e-5, atol=1e-7
    )


def test_tol_stop_never_fires_at_iteration_zero_and_fires_later():
    x = _data()
    m = _tiny(x, lambda1=0.0)
    # With a huge tol the first refresh after iteration 0 stops training.
    cb = TargetRefresh(x, update_interval=3, tol=1.01, maxiter=100, verbose=0)
    m.fit(make_train_dataset(x, 16, 0), epochs=10, steps_per_epoch=4, callbacks=[cb], verbose=0)
    assert cb.stop_reason_ == "tol" and cb.converged_
    assert cb.n_iter_ == 3


def test_resume_continues_the_iteration_count():
    x = _data()
    m = _tiny(x)
    cb = TargetRefresh(x, update_interval=5, tol=0.0, maxiter=6, verbose=0)
    m.fit(make_train_dataset(x, 16, 0), epochs=2, steps_per_epoch=4, callbacks=[cb], verbose=0)
    cb2 = TargetRefresh(x, update_interval=5, tol=0.0, maxiter=12, verbose=0)
    m.fit(make_train_dataset(x, 16, 0), epochs=2, steps_per_epoch=4, callbacks=[cb2], verbose=0)
    assert int(m.target_store.iteration.numpy()) == 12
    assert [h["iteration"] for h in cb2.history_] == [10]  # no second refresh at a non-zero start


class _CollapsesAfterStart(ASC2D):
    """Q puts every sample in cluster 0 once training has started (a stand-in for a collapse,
    which real runs reach at unpredictable iterations)."""

    def soft_assign(self, x, batch_size: int = 1024):
        q = super().soft_assign(x, batch_size)
        if int(self.target_store.iteration.numpy()) == 0:
            return q
        collapsed = np.full_like(q, 0.01)
        collapsed[:, 0] = 1.0
        return collapsed / collapsed.sum(axis=1, keepdims=True)


def _collapsing(x):
    m = _CollapsesAfterStart(x.shape[1:], 3, filters=(4, 4, 4), disc_hidden=(8,))
    m.compile()
    m.init_centroids(x, seed=0, n_init=2)
    return m


def test_collapse_stops_after_patience_refreshes_and_a_resume_stays_stopped():
    x = _data()
    m = _collapsing(x)
    out = run_self_training(
        m, x, None, 16, 0, update_interval=3, tol=0.0, maxiter=30, collapse_patience=2, verbose=0
    )
    # Iteration 0 is the k-means start and does not count: collapsed at 3 and 6, stopped at 6.
    assert out["stop_reason"] == "collapsed" and not out["converged"]
    assert out["n_iter"] == 6
    assert [h["degenerate"] for h in out["history"]][1:] == ["collapsed", "collapsed"]
    # Rerunning the same command reports the collapse and trains no further.
    again = run_self_training(
        m, x, None, 16, 0, 3, 0.0, 30, history=out["history"], collapse_patience=2, verbose=0
    )
    assert again["stop_reason"] == "collapsed" and again["n_iter"] == 6
    # A larger patience resumes training, and the stop fires when the longer run of collapsed
    # refreshes reaches it.
    longer = run_self_training(
        m, x, None, 16, 0, 3, 0.0, 30, history=out["history"], collapse_patience=4, verbose=0
    )
    assert longer["stop_reason"] == "collapsed" and longer["n_iter"] == 12


def test_zero_patience_trains_on_through_a_collapse():
    x = _data()
    out = run_self_training(
        _collapsing(x), x, None, 16, 0, 3, 0.0, maxiter=12, collapse_patience=0, verbose=0
    )
    assert out["stop_reason"] == "maxiter" and out["n_iter"] == 12
    assert all(h["degenerate"] == "collapsed" for h in out["history"][1:])


def test_a_balanced_run_is_not_stopped_by_the_collapse_rule():
    # DEC on three well-separated blobs. (The untrained tiny ASC2D above collapses even on
    # separated data within a few steps, which is what the rule is for.)
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(60, 6)) + 6.0 * np.repeat(np.eye(3, 6), 20, axis=0)).astype("float32")
    m = DECStar((6,), 3, hidden=(8, 8, 16))
    m.compile(optimizer="sgd")
    m.init_centroids(x, seed=0, n_init=2)
    out = run_self_training(m, x, None, 16, 0, 3, 0.0, maxiter=12, collapse_patience=1, verbose=0)
    assert out["stop_reason"] == "maxiter"
    assert not any(h["degenerate"] == "collapsed" for h in out["history"])


def test_negative_collapse_patience_is_rejected():
    x = _data()
    with pytest.raises(ValueError, match="collapse_patience must be >= 0"):
        TargetRefresh(x, update_interval=3, tol=0.0, maxiter=10, collapse_patience=-1)
