"""Choosing a ``tf.distribute`` strategy and the chief-only file writes that go with it.

``--strategy default`` trains on one device. ``mirrored`` replicates the model on every local GPU
(or on ``--cpu-replicas`` logical CPU devices, for testing); ``multiworker`` spans several hosts
whose roles come from the ``TF_CONFIG`` environment variable. The losses are written for any
replica count (``tfdeepclust.losses.reduction``); ``--batch-size`` is always the **global** batch.

Under ``multiworker`` every worker runs the same program, but only the chief writes results,
checkpoints, pretraining caches and exports; the others write to a private temporary folder that
is removed at the end (Keras' multi-worker saving pattern: every worker must still take part in
saving, because saving can involve collective ops).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker")


class StrategyError(ValueError):
    """A strategy that cannot be set up as asked (the message says how to fix it)."""


def configure_cpu_replicas(n: int) -> None:
    """Splits the (first) CPU into ``n`` logical devices, one mirrored replica each.

    Must run before TensorFlow initialises its devices; a later call only succeeds when the
    split already exists.
    """
    if n <= 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == n:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        )
    except RuntimeError as e:
        raise StrategyError(
            f"--cpu-replicas {n}: TensorFlow's devices are already initialised ({e}). Pass the "
            "option to a fresh process (the training scripts do this before any TF work)."
        ) from None


def _tf_config() -> dict:
    raw = os.environ.get("TF_CONFIG", "")
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        raise StrategyError(f"TF_CONFIG is not valid JSON ({e}): {raw[:200]!r}") from None


def make_strategy(name: str = "default", cpu_replicas: int = 0) -> tf.distribute.Strategy:
    """Creates the strategy; call it before any other TensorFlow work in the process.

    Args:
        name: ``default`` | ``mirrored`` | ``multiworker``.
        cpu_replicas: With ``mirrored``, split the CPU into this many replicas when no GPU is
            visible (0 = one replica per GPU, or the CPU alone).
    """
    if name not in STRATEGIES:
        raise StrategyError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_physical_devices("GPU")
        if gpus or cpu_replicas <= 1:
            return tf.distribute.MirroredStrategy()
        configure_cpu_replicas(cpu_replicas)
        devices = [d.name for d in tf.config.list_logical_devices("CPU")][:cpu_replicas]
        return tf.distribute.MirroredStrategy(devices)
    cfg = _tf_config()
    if not cfg.get("cluster") or not cfg.get("task"):
        raise StrategyError(
            "--strategy multiworker needs TF_CONFIG with 'cluster' and 'task', e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}} on the first host (index 1 on the second).'
        )
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    _patch_keras_fit_for_multiworker()
    return strategy


def _patch_keras_fit_for_multiworker() -> None:
    """Works around two Keras 3 bugs that stop ``fit`` under MultiWorkerMirroredStrategy
    (keras-team/keras#20585, tensorflow/tensorflow#72388; seen with Keras 3.15, TF 2.21):

    1. ``_maybe_symbolic_build`` all-reduces the first *input batch* only to learn its shapes,
       which fails for per-replica values; the local replica's batch has the same shapes.
    2. ``reduce_per_replica`` averages scalar step outputs over ``axis=0``; they have no axis.
    """
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    cls = tf_trainer.TensorFlowTrainer
    if getattr(cls, "_tfdeepclust_multiworker_patch", False):
        return
    if not hasattr(cls, "_maybe_symbolic_build") or not hasattr(tf_trainer, "reduce_per_replica"):
        raise StrategyError(
            "--strategy multiworker: this Keras version's trainer differs from the patched one "
            "(Keras 3.15); use the versions in requirements.txt."
        )
    original_build = cls._maybe_symbolic_build
    original_reduce = tf_trainer.reduce_per_replica

    def local_value(v, strategy):
        if isinstance(v, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(v)[0]
        return v

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if iterator is None or self._distribute_strategy is None:
            return original_build(self, iterator, data_batch)
        for _, _, it in iterator:
            batch = next(it)
            data_batch = tree.map_structure(
                lambda v: local_value(v, self.distribute_strategy), batch
            )
            break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def reduce_per_replica(values, strategy, reduction):
        multi = tf_trainer._collective_all_reduce_multi_worker(strategy)
        if multi and reduction in ("auto", "mean"):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original_reduce(values, strategy, reduction)

    cls._maybe_symbolic_build = maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    cls._tfdeepclust_multiworker_patch = True


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """True unless this process is a non-chief worker of a multi-worker cluster."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in (None, "chief"):
        return True
    # Without a 'chief' entry, worker 0 is the chief (TF's convention).
    has_chief = "chief" in (resolver.cluster_spec().as_dict() or {})
    return task_type == "worker" and task_id == 0 and not has_chief


def keep_first_replica(strategy: tf.distribute.Strategy, per_replica) -> list[tf.Tensor]:
    """All-reduce that hands every replica the value of global replica 0.

    Args:
        strategy: The strategy ``per_replica`` belongs to.
        per_replica: A tensor (the same on every replica) or a ``PerReplica`` value.

    Returns:
        This process's local results, each equal to replica 0's value (bit for bit: the others
        contribute exact zeros to the sum).
    """

    def keep(v):
        ctx = tf.distribute.get_replica_context()
        first = tf.equal(ctx.replica_id_in_sync_group, 0)
        # where, not a 0/1 product: NaN * 0 would still be NaN.
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, tf.where(first, v, tf.zeros_like(v)))

    return list(
        strategy.experimental_local_results(strategy.run(tf.function(keep), (per_replica,)))
    )


def agree_with_chief(value: np.ndarray, strategy: tf.distribute.Strategy | None = None):
    """The chief's copy of a host-side array that every worker computed for itself.

    Under ``multiworker`` each worker runs k-means and the target refresh on its own. Their
    weights are the same, but their float results need not be bit-identical, and one label more
    or less can put a worker on the other side of the ``tol`` stop: it would leave ``fit`` while
    the others wait for it in the next all-reduce. Taking the chief's k-means centres and soft
    assignments keeps every worker's decisions identical. A no-op for every other strategy.
    """
    strategy = strategy or tf.distribute.get_strategy()
    if (
        not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        or strategy.num_replicas_in_sync < 2
    ):
        return value
    arr = np.asarray(value)
    return keep_first_replica(strategy, tf.constant(arr))[0].numpy().astype(arr.dtype)


class WorkerOutputs:
    """Where this process writes: the real paths on the chief, a private temp folder elsewhere.

    Non-chief workers start from copies of what the chief has already written (checkpoints of a
    run being resumed, a cached pretraining), so every worker takes the same path through the
    run and their collective ops stay in step.
    """

    def __init__(self, strategy: tf.distribute.Strategy):
        self.chief = is_chief(strategy)
        self._tmp = None if self.chief else Path(tempfile.mkdtemp(prefix="tfdeepclust_worker_"))

    def path(self, real: str | os.PathLike, copy_existing: bool = False) -> Path:
        """``real`` on the chief; on other workers a mirror of it under the temp folder."""
        real = Path(real)
        if self.chief:
            return real
        mirror = self._tmp / real.resolve().relative_to(real.resolve().anchor)
        if copy_existing and real.exists() and not mirror.exists():
            mirror.parent.mkdir(parents=True, exist_ok=True)
            if real.is_dir():
                shutil.copytree(real, mirror)
            else:
                shutil.copy2(real, mirror)
        return mirror

    def cleanup(self) -> None:
        """Removes a non-chief worker's temp folder."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


__all__ = [
    "STRATEGIES",
    "StrategyError",
    "WorkerOutputs",
    "agree_with_chief",
    "configure_cpu_replicas",
    "is_chief",
    "keep_first_replica",
    "make_strategy",
]
