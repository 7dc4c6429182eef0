"""``tf.data`` pipelines for clustering: stable sample ids, seeded shuffles, batched augmentation.

Every training batch is ``(x, sample_id)``: ``sample_id`` is the row number in the canonical
order, so full-data targets can be gathered per sample whatever the shuffle (docs/methods.md §1.2).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf


def steps_per_epoch(n_samples: int, batch_size: int) -> int:
    """Batches per pass over the data (the last one may be smaller)."""
    return math.ceil(n_samples / batch_size)


def make_train_dataset(
    x: np.ndarray,
    batch_size: int,
    seed: int,
    shuffle: bool = True,
    augmenter=None,
    repeat: bool = True,
    parallel_augment: bool = False,
) -> tf.data.Dataset:
    """Builds the training pipeline ``(x_batch, sample_id_batch)``.

    Shuffling happens over indices (cheap, reshuffled every pass); images are gathered per batch,
    and augmentation is mapped **after batching** (docs/platform.md §2.7). The pipeline repeats, so
    ``fit`` takes ``steps_per_epoch`` (avoids the epoch-start stall of docs/platform.md §2.5).

    Args:
        x: Data ``[N, ...]`` float32.
        batch_size: Batch size (clipped to N).
        seed: Seeds the shuffle (and the augmenter was seeded when built).
        shuffle: Reshuffle every pass; False keeps canonical order (DEC-keras behaviour).
        augmenter: A callable ``augmenter(x, training=True)`` or None.
        repeat: Repeat indefinitely.
        parallel_augment: Map augmentation with AUTOTUNE parallelism: ~1.5x faster but the
            random draws are no longer reproducible under a seed (measured). Default off.
    """
    n = len(x)
    batch_size = min(batch_size, n)
    data = tf.constant(x)
    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size)

    def gather(idx):
        return tf.gather(data, idx), idx

    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE)  # deterministic order by default
    if augmenter is not None:
        ds = ds.map(
            lambda xb, idx: (augmenter(xb, training=True), idx),
            num_parallel_calls=tf.data.AUTOTUNE if parallel_augment else None,
        )
    return _shard_by_data(ds.prefetch(tf.data.AUTOTUNE))


def _shard_by_data(ds: tf.data.Dataset) -> tf.data.Dataset:
    """Multi-worker runs split every global batch by rows (there are no files to shard by;
    the seeded shuffle is identical on every worker)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def make_eval_dataset(x: np.ndarray, batch_size: int = 1024) -> tf.data.Dataset:
    """Canonical-order, unaugmented batches of ``x`` for full-data passes."""
    ds = tf.data.Dataset.from_tensor_slices(x).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return _shard_by_data(ds)
