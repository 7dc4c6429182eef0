"""Batch reductions and cross-replica helpers that keep every loss correct under ``tf.distribute``.

Under a strategy with R replicas each replica sees B/R rows of the global batch B, and the
optimizer **sums** the replicas' gradients. Every loss a ``train_step`` returns is therefore a
*replica share*: a value whose sum over replicas is the single-device loss on the global batch.

* Per-sample terms: ``global_batch_mean`` (local sum / B).
* Batch statistics that need every row (IIC's joint matrix, the batch-marginal cluster-size
  regulariser, contrastive negatives, ACAI's interpolation partners): gather the rows of all
  replicas (:func:`gather_global`), compute the statistic on the global batch, and take the
  replica share :func:`replica_share` (value / R). ``all_gather`` is differentiable: its gradient
  sums the replicas' upstream gradients before slicing, so the summed gradients equal the
  single-device gradient (the google-research/simclr TF2 pattern, checked by the tests).
* Random draws (noise, mixing coefficients) are made for the global batch with the replicas'
  shared seed and sliced with :func:`local_rows`, so R replicas draw what one device draws.

Outside a replica context (callbacks, evaluation) every helper is the identity: R counts as 1.
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops


def _replica_context():
    # None in a cross-replica context (e.g. a callback inside ``strategy.scope()``): code there
    # works on whole arrays, so it must not divide by the replica count.
    return tf.distribute.get_replica_context()


def num_replicas() -> int:
    """Replicas in sync in the current replica context (1 outside one)."""
    ctx = _replica_context()
    return 1 if ctx is None else int(ctx.num_replicas_in_sync)


def replica_id():
    """This replica's index (0 outside a replica context)."""
    ctx = _replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return 0
    return ctx.replica_id_in_sync_group


def global_batch_mean(per_sample):
    """Σ per_sample / (local batch × replicas): the replica share of the global-batch mean."""
    local = ops.cast(ops.shape(per_sample)[0], per_sample.dtype)
    return ops.sum(per_sample) / (local * num_replicas())


def gather_global(x):
    """The global batch: every replica's rows of ``x`` in replica order (differentiable)."""
    if num_replicas() == 1:
        return x
    return _replica_context().all_gather(x, axis=0)


def local_rows(x_global, n_local):
    """This replica's ``n_local`` rows of a global-batch tensor (inverse of gather_global)."""
    if num_replicas() == 1:
        return x_global
    start = replica_id() * n_local
    return x_global[start : start + n_local]


def replica_share(value):
    """The share of a global-batch statistic that every replica computed in full (value / R)."""
    return value / num_replicas()


def on_global_batch(fn, *tensors):
    """``fn`` of the gathered global batch, as a replica share (e.g. IIC on all replicas' rows)."""
    return replica_share(fn(*(gather_global(t) for t in tensors)))


def update_trackers(trackers: dict, values: dict) -> dict:
    """Feeds replica shares to Keras ``Mean`` trackers and returns their results.

    A tracker under a strategy reports the mean of the replicas' values; shares are multiplied
    by R so the progress bar shows the global-batch value, as on one device.
    """
    r = num_replicas()
    for name, value in values.items():
        trackers[name].update_state(value * r if r > 1 else value)
    return {name: t.result() for name, t in trackers.items()}
