"""Batch reductions that stay correct under ``tf.distribute``.

Each replica sees B/R samples; dividing a per-replica sum by the **global** batch size makes the
gradients summed across replicas equal the single-device mean (TF's custom-training guide).
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops


def num_replicas() -> int:
    """Replicas in sync under the current strategy (1 outside any strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def global_batch_mean(per_sample):
    """Σ per_sample / (local batch × replicas): the global-batch mean, per replica."""
    local = ops.cast(ops.shape(per_sample)[0], per_sample.dtype)
    return ops.sum(per_sample) / (local * num_replicas())
