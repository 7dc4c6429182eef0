"""Checkpoint and resume the clustering phase (everything needed to continue after a crash).

One ``tf.train.Checkpoint`` holds the networks, **every** optimizer (their slots and iteration
counters), the target store (P, previous labels, iteration, stopped flag). A sidecar JSON per
checkpoint (``refresh_history-<iteration>.json``, written before the checkpoint it belongs to)
keeps the refresh history, so a kill between the two writes never pairs a checkpoint with an
older history. Rerunning the same command restores the newest checkpoint and continues.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import keras
import tensorflow as tf

from tfdeepclust.atomic import atomic_write_json


class ClusteringCheckpoint:
    """Saves/restores the state of a model's clustering phase in ``directory``.

    Args:
        directory: Checkpoint folder (created on first save).
        model: A :class:`~tfdeepclust.methods.base.DeepClusteringModel` with targets attached.
        max_to_keep: Checkpoints kept (older ones are deleted by TF's manager).
    """

    HISTORY = "refresh_history.json"  # written by versions before the per-checkpoint sidecars

    def history_path(self, iteration: int) -> Path:
        """The refresh-history sidecar of the checkpoint at ``iteration``."""
        return self.directory / f"refresh_history-{iteration}.json"

    def __init__(self, directory: str | Path, model, max_to_keep: int = 2):
        self.directory = Path(directory)
        self.model = model
        # Optimizer slots are created lazily on the first step; build them now so a restore
        # before any step has variables to fill (and an iteration counter to check).
        model.build_optimizers()
        self.checkpoint = tf.train.Checkpoint(
            model=model, targets=model.target_store, **model.optimizers_by_name()
        )
        self.max_to_keep = max_to_keep
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(self.directory), max_to_keep=max_to_keep
        )

    def move_aside(self) -> Path:
        """Renames the checkpoint folder (never deletes a user's work) and starts a new one."""
        aside = self.directory.with_name(f"{self.directory.name}.old-{int(time.time())}")
        shutil.move(str(self.directory), aside)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(self.directory), max_to_keep=self.max_to_keep
        )
        return aside

    @property
    def latest(self) -> str | None:
        return self.manager.latest_checkpoint

    def restore(self) -> tuple[int, list[dict]]:
        """Restores the newest checkpoint; returns ``(iteration, refresh history)``."""
        path = self.latest
        if path is None:
            raise FileNotFoundError(f"no checkpoint in {self.directory}")
        self.checkpoint.restore(path).assert_existing_objects_matched()
        it = int(self.model.target_store.iteration.numpy())
        history = []
        for hist_file in (self.history_path(it), self.directory / self.HISTORY):
            if hist_file.is_file():
                history = json.loads(hist_file.read_text())
                break
        # Entries after the restored iteration belong to a later, unsaved state.
        history = [h for h in history if int(h.get("iteration", 0)) <= it]
        return it, history

    def save(self, history: list[dict]) -> str:
        """Writes a checkpoint numbered by the current iteration, then the history sidecar."""
        it = int(self.model.target_store.iteration.numpy())
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.history_path(it), history, overwrite=True)
        path = self.manager.save(checkpoint_number=it)
        kept = {int(c.rsplit("-", 1)[-1]) for c in self.manager.checkpoints}
        for old in self.directory.glob("refresh_history-*.json"):
            if int(old.stem.rsplit("-", 1)[-1]) not in kept:
                old.unlink(missing_ok=True)
        return path


class CheckpointEvery(keras.callbacks.Callback):
    """Saves a :class:`ClusteringCheckpoint` every ``every`` iterations and at the end of training.

    Put it after the ``TargetRefresh`` callback, so a checkpoint taken at a refresh iteration holds
    the refreshed target, and after the ``DivergenceGuard`` it is given.
    """

    def __init__(self, checkpoint: ClusteringCheckpoint, every: int, refresh_callback, guard=None):
        super().__init__()
        self.checkpoint, self.every, self.refresh = checkpoint, int(every), refresh_callback
        self.guard = guard  # a DivergenceGuard: nothing is saved once the losses are non-finite
        self.last_saved: tuple | None = None

    def _save(self) -> None:
        if self.guard is not None and self.guard.diverged:
            return
        store = self.checkpoint.model.target_store
        # A stop flag set, or a state restored to an earlier iteration (the drift guard's
        # rollback), is new state even at an iteration saved before.
        it, stopped = int(store.iteration.numpy()), int(store.stopped.numpy())
        state = (it, stopped, len(self.refresh.history_))
        if state != self.last_saved:
            self.checkpoint.save(self.refresh.history_)
            self.last_saved = state

    def on_train_batch_end(self, batch, logs=None):
        if int(self.checkpoint.model.target_store.iteration.numpy()) % self.every == 0:
            self._save()

    def on_train_end(self, logs=None):
        self._save()
