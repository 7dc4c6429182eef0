"""Auto-encoder pretraining as its own phase, with weights cached for reuse."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from tfdeepclust.atomic import atomic_write_json
from tfdeepclust.data.dataset import DataError
from tfdeepclust.data.pipeline import make_train_dataset, steps_per_epoch
from tfdeepclust.losses.reconstruction import REDUCTIONS, squared_error
from tfdeepclust.training.divergence import DivergenceGuard, TrainingDivergedError, scale_hint
from tfdeepclust.training.progress import EpochProgress, keras_verbosity
from tfdeepclust.training.time_limit import TimeLimit, TimeLimitReached, fired


def pretrain_cache_key(**fields) -> str:
    """A short stable hash of everything that determines the pretrained weights."""
    blob = json.dumps(fields, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def pretrain_autoencoder(
    encoder: keras.Model,
    decoder: keras.Model,
    x: np.ndarray,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    epsilon: float = 1e-7,
    augmenter=None,
    cache_path: str | os.PathLike | None = None,
    verbose: int = 2,
    callbacks: list | None = None,
    optimizer: keras.optimizers.Optimizer | None = None,
    reduction: str = "sum",
) -> dict:
    """Trains ``decoder(encoder(x)) ≈ x`` (Adam by default), or loads cached weights.

    Args:
        encoder, decoder: The networks (updated in place).
        x: Training data (all samples; clustering uses all data, docs/methods.md §1.5).
        epochs: Passes over the data.
        batch_size: Batch size.
        learning_rate: Adam learning rate.
        seed: Shuffle seed.
        epsilon: Adam epsilon (TF1 papers used 1e-8; Keras 3 defaults to 1e-7).
        augmenter: Optional augmentation applied to inputs (the target is the augmented input).
        cache_path: ``.weights.h5`` file: loaded if it exists, written (atomically) otherwise.
        verbose: 0 silent, 1 a progress line every ~10 % of the epochs, 2 Keras' line per
            epoch.
        callbacks: Extra Keras callbacks (e.g. TensorBoard).
        optimizer: Replaces ``Adam(learning_rate, epsilon)`` (e.g. DEC-DA's ``SGD(1.0, 0.9)``).
        reduction: ``"sum"`` over features per sample (ASC2D Eq. 2) or ``"mean"`` (Keras
            ``mse``; needed for large SGD learning rates such as DEC-DA's 1.0).

    Returns:
        ``{"cached": bool, "epochs": int, "final_loss": float | None, "wall_time_s": float}``
        (this process), plus ``resumed_at_epoch``, ``processes`` and ``wall_time_total_s``
        (all processes) when pretraining was cached to ``cache_path``.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")

    def reconstruction(y_true, y_pred):  # per sample; Keras averages over the batch
        return squared_error(y_true, y_pred, reduction)

    ae = keras.Model(encoder.input, decoder(encoder.output), name="autoencoder")
    ae.compile(
        optimizer=optimizer or keras.optimizers.Adam(learning_rate=learning_rate, epsilon=epsilon),
        loss=reconstruction,
    )
    ds = make_train_dataset(x, batch_size, seed, augmenter=augmenter)
    ds = ds.map(lambda xb, _idx: (xb, xb))
    steps = steps_per_epoch(len(x), batch_size)
    return fit_or_load(ae, ae, ds, epochs, steps, cache_path, verbose, callbacks, x=x)


def fit_or_load(
    trainer: keras.Model,
    weights_model: keras.Model,
    ds,
    epochs: int,
    steps: int,
    cache_path: str | os.PathLike | None,
    verbose: int = 2,
    callbacks: list | None = None,
    x: np.ndarray | None = None,
) -> dict:
    """Loads ``weights_model`` from ``cache_path`` if it exists, else fits ``trainer`` and saves.

    Args:
        trainer: The compiled model whose ``fit`` does the pretraining.
        weights_model: The model whose weights are the result (e.g. encoder + decoder only).
        ds: Repeating training dataset.
        epochs, steps: ``fit`` epochs and steps per epoch.
        cache_path: ``.weights.h5`` cache; a ``.backup`` folder beside it lets a killed
            pretraining resume from its last finished epoch.
        x: The training data, when given named as the likely cause if training diverges on
            unscaled features.
    """
    t0 = time.perf_counter()
    if cache_path is not None and Path(cache_path).is_file():
        try:
            weights_model.load_weights(cache_path)
        except ValueError as e:
            raise DataError(
                f"the auto-encoder weights in {cache_path} do not fit this model (input shape "
                f"{tuple(weights_model.input_shape[1:])}): {e}. Pass weights pretrained on data "
                "of this shape and with these architecture settings, or drop --pretrained."
            ) from None
        print(f"[pretrain] loaded cached auto-encoder weights from {cache_path}", flush=True)
        return {
            "cached": True,
            "epochs": epochs,
            "final_loss": None,
            "wall_time_s": time.perf_counter() - t0,
            "cache_path": str(cache_path),
        }
    final = None
    ledger = None
    # Removed below once the weights are cached; kept when the time limit stopped the fit.
    backup = None if cache_path is None else Path(f"{cache_path}.backup")
    if epochs > 0:
        guard = DivergenceGuard()
        cbs = [guard, *(callbacks or [])]
        if backup is not None:
            ledger = _TimeLedger(Path(f"{cache_path}.time.json"), backup.is_dir())
            backup_cb = keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)
            cbs = [backup_cb, ledger, *cbs]
        elif any(isinstance(c, TimeLimit) for c in cbs):
            print(
                "[pretrain] no pretraining cache (--pretrain-cache-dir is empty), so the time "
                "limit cannot stop the pretraining without losing it: it is not applied here",
                flush=True,
            )
            cbs = [c for c in cbs if not isinstance(c, TimeLimit)]
        # The tf.data pipeline shuffles; shuffle=False only tells Keras so (it warns otherwise).
        fit_verbose, cbs = keras_verbosity(verbose, cbs, EpochProgress("pretrain", epochs))
        hist = trainer.fit(
            ds,
            epochs=epochs,
            steps_per_epoch=steps,
            verbose=fit_verbose,
            callbacks=cbs,
            shuffle=False,
        )
        limit = fired(cbs)
        # (A limit that fired after the last epoch stopped nothing.)
        if limit is not None and not guard.diverged and ledger.epochs_done < epochs:
            done = ledger.epochs_done
            raise TimeLimitReached(
                f"the time limit ({limit.limit_s:.0f} s) stopped the pretraining after epoch "
                f"{done} of {epochs}; the next epoch would not have ended in time. Its backup "
                f"is kept in {backup}: rerun the same command to continue from epoch {done + 1}."
            )
        if guard.diverged:
            if backup is not None:  # its epochs led to the divergence: no resuming from them
                shutil.rmtree(backup, ignore_errors=True)
            raise TrainingDivergedError(
                f"Pretraining: {guard.describe().replace('iteration', 'step')}. Nothing was "
                "cached. Lower the pretraining learning rate and rerun."
                + ("" if x is None else scale_hint(x))
            )
        losses = hist.history.get("loss")  # none when a backup already held every epoch
        final = float(losses[-1]) if losses else None
    if cache_path is not None:
        cache_path = Path(cache_path)
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_name(f".tmp-{os.getpid()}-{cache_path.name}")
        weights_model.save_weights(tmp)
        os.replace(tmp, cache_path)
        if epochs > 0:  # only now: a kill before the weights were cached still resumes
            shutil.rmtree(backup, ignore_errors=True)
    wall = time.perf_counter() - t0
    out = {
        "cached": False,
        "epochs": epochs,
        "final_loss": final,
        "wall_time_s": wall,
        "cache_path": None if cache_path is None else str(cache_path),
    }
    if ledger is not None:
        # A pretraining resumed from its backup: wall time of every process, not just this one.
        out.update(
            resumed_at_epoch=ledger.resumed_at_epoch,
            processes=ledger.prior["processes"] + 1,
            wall_time_total_s=ledger.prior["elapsed_s"] + wall,
        )
        ledger.path.unlink(missing_ok=True)
    return out


class _TimeLedger(keras.callbacks.Callback):
    """Keeps the pretraining's wall time across processes beside its backup.

    Written atomically after each epoch; read when a killed pretraining resumes from the
    backup (only then: without a backup the run starts over and so does its clock). The
    unfinished epoch of a killed process is not counted.
    """

    def __init__(self, path: Path, resuming: bool):
        super().__init__()
        self.path, self.t0 = path, time.perf_counter()
        self.prior = {"elapsed_s": 0.0, "processes": 0, "epochs_done": 0}
        if resuming and path.is_file():
            # An unreadable ledger only loses the earlier processes' time.
            with contextlib.suppress(ValueError, OSError):
                self.prior.update(json.loads(path.read_text()))
        self.resumed_at_epoch = self.prior["epochs_done"] if resuming else 0
        self.epochs_done = self.resumed_at_epoch

    def on_epoch_end(self, epoch, logs=None):
        state = {
            "elapsed_s": self.prior["elapsed_s"] + time.perf_counter() - self.t0,
            "processes": self.prior["processes"] + 1,
            "epochs_done": epoch + 1,
        }
        self.epochs_done = epoch + 1
        atomic_write_json(self.path, state)
