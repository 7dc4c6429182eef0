"""The full-data target refresh and the tol / maxiter stops (METHODS.md §1.2, §1.4, §5.5)."""

import numpy as np

from tfdeepclust.data.pipeline import make_train_dataset
from tfdeepclust.losses.dec import target_distribution
from tfdeepclust.methods.asc2d import ASC2D
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
