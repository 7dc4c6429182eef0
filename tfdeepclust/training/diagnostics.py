"""Feature Randomness / Feature Drift diagnostics (ADEC §3, Eqs. 5-6; docs/methods.md §3.4).

Both are cosines between gradients w.r.t. the encoder's kernels and biases (flattened and
concatenated; centroids excluded), on a fixed probe batch:

* FR = cos(∇ L_train, ∇ L_sup): how well the training signal agrees with a supervised one built
  from the true labels mapped to clusters by the current Hungarian assignment;
* FD = cos(∇ L_pseudo, ∇ L_self): agreement of the clustering (pseudo-supervised) term with the
  self-supervised one (ADEC: adversarial; IDEC*: reconstruction).

They need labels, so they only log: they never influence training.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf

from tfdeepclust.metrics import hungarian_map


def gradient_cosine(grads_a, grads_b) -> float | None:
    """cos of two gradient lists (None entries count as zeros); None when a norm is zero."""
    pairs = [
        (a, b) for a, b in zip(grads_a, grads_b, strict=True) if a is not None or b is not None
    ]
    va = tf.concat(
        [tf.reshape(a if a is not None else tf.zeros_like(b), [-1]) for a, b in pairs], 0
    )
    vb = tf.concat(
        [tf.reshape(b if b is not None else tf.zeros_like(a), [-1]) for a, b in pairs], 0
    )
    na, nb = float(tf.norm(va)), float(tf.norm(vb))
    if na == 0.0 or nb == 0.0:
        return None
    return float(tf.tensordot(va, vb, 1)) / (na * nb)


def _probe_gradients(model, x, p, target) -> dict:
    """Gradients of each diagnostic loss w.r.t. the encoder's weights on the probe batch.

    Under a ``tf.distribute`` strategy, mirrored variables are only differentiable inside a
    replica context: every replica computes the same whole-probe gradients (in one compiled
    ``strategy.run``) and the first replica's are used (cosines ignore the replica-share scale).
    """
    variables = model.encoder.trainable_weights

    def gradients(x, p, target):
        with tf.GradientTape(persistent=True) as tape:
            losses = model.diagnostic_losses(x, p, target)
        out = {}
        for k, v in losses.items():
            grads = tape.gradient(v, variables)
            pairs = zip(grads, variables, strict=True)
            out[k] = [tf.zeros_like(w) if g is None else g for g, w in pairs]
        return out

    strategy = model.distribute_strategy
    with strategy.scope():
        # Variables of any non-default strategy (a one-device MirroredStrategy too) are
        # distributed and differentiable only inside strategy.run.
        distributed = tf.distribute.has_strategy()
    if not distributed:
        return gradients(x, p, target)
    run = model.__dict__.get("_diagnostics_run")
    if run is None:
        run = tf.function(lambda *args: strategy.run(gradients, args=args))
        object.__setattr__(model, "_diagnostics_run", run)  # untracked: not model state
    per_replica = run(x, p, target)
    return tf.nest.map_structure(lambda v: strategy.experimental_local_results(v)[0], per_replica)


class FeatureDiagnostics(keras.callbacks.Callback):
    """Logs FR and FD every ``every`` iterations (after the target refresh of that iteration).

    The model must provide ``diagnostic_losses(x, p, cluster_of_true_label) -> dict`` with
    ``train``, ``sup``, ``pseudo`` and optionally ``self`` scalar losses.

    Args:
        probe_ids: Sample ids of the fixed probe batch.
        x: All clean samples; y: all labels.
        every: Iterations between measurements.
        log_dir: Optional TensorBoard folder.
    """

    def __init__(self, x, y, probe_ids, every: int, log_dir: str | None = None):
        super().__init__()
        self.x, self.y, self.probe_ids, self.every = x, y, np.asarray(probe_ids), int(every)
        self.history_: list[dict] = []
        self.writer = tf.summary.create_file_writer(log_dir) if log_dir else None

    def measure(self) -> dict:
        model = self.model
        store = model.target_store
        labels = store.labels_prev.numpy()
        mapping = hungarian_map(self.y, labels, model.n_clusters)  # cluster -> class
        class_to_cluster = np.zeros(int(self.y.max()) + 1, dtype=np.int64)
        for cluster, cls in enumerate(mapping):
            if cls >= 0:
                class_to_cluster[cls] = cluster
        ids = self.probe_ids
        x = tf.constant(self.x[ids])
        p = tf.gather(store.p, ids)
        target = tf.constant(class_to_cluster[self.y[ids]])
        grads = _probe_gradients(model, x, p, target)
        entry = {
            "iteration": int(store.iteration.numpy()),
            "fr": gradient_cosine(grads["train"], grads["sup"]),
            "fd": gradient_cosine(grads["pseudo"], grads["self"]) if "self" in grads else None,
        }
        self.history_.append(entry)
        # Its own writer when given one, else the default writer (the runner's --tensorboard).
        with self.writer.as_default() if self.writer is not None else contextlib.nullcontext():
            for k in ("fr", "fd"):
                if entry[k] is not None:
                    tf.summary.scalar(f"diagnostics/{k}", entry[k], step=entry["iteration"])
        return entry

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.target_store.iteration.numpy()) % self.every == 0:
            self.measure()


def plot_diagnostics(history: list[dict], path: str, title: str) -> str | None:
    """FR and FD against iterations (the paper's Figs. 7-8) as a PNG; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from tfdeepclust.atomic import atomic_save_figure

    its = [h["iteration"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key, label in (("fr", "Feature Randomness (FR)"), ("fd", "Feature Drift (FD)")):
        vals = [h[key] for h in history]
        if any(v is not None for v in vals):
            ax.plot(its, [np.nan if v is None else v for v in vals], "o-", ms=3, label=label)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("clustering iteration")
    ax.set_ylabel("gradient cosine")
    ax.set_ylim(-1, 1)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    atomic_save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path
