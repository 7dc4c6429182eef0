"""One training step under MirroredStrategy (2 logical CPUs) vs the default strategy.

Run as a script in a fresh process (the CPU split must happen before TensorFlow initialises its
devices). For every method, the same model (same initial weights, targets and seeds) takes one
``fit`` step on the same global batch of 2b samples, once on one device and once on two
replicas of b samples each; the script prints one JSON line per check with the largest absolute
difference of the tracked losses, of every weight after the step, and of the predictions.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfdeepclust.distribute import make_strategy  # noqa: E402

MIRRORED = make_strategy("mirrored", cpu_replicas=2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

B_GLOBAL = 8
K = 4
RNG = np.random.default_rng(0)
IMAGES = RNG.random((64, 16, 16, 1), dtype=np.float32)


def asc2d():
    from tfdeepclust.methods.asc2d import ASC2D

    # float32: the strategies are compared to 1e-5; bfloat16 (the default on AVX-512 BF16
    # CPUs) rounds each replica's half-batch differently (tests/test_asc2d.py compares it).
    m = ASC2D((16, 16, 1), K, disc_hidden=(32, 32), disc_precision="float32")
    m.compile()
    return m, (IMAGES[:B_GLOBAL], np.arange(B_GLOBAL))


def adec(mode):
    def build():
        from tfdeepclust.methods.adec import build_adec_family

        m = build_adec_family(
            mode, (16, 16, 1), K, hidden=(32, 32, 64), disc_hidden=(32, 32), n_aux=2
        )
        m.compile()
        rows = B_GLOBAL * (1 + m.n_aux)
        return m, (IMAGES[:rows], np.arange(rows))

    return build


def acai():
    from tfdeepclust.methods.acai import ACAIAutoencoder
    from tfdeepclust.nn.mlp_autoencoder import build_mlp, build_mlp_autoencoder

    enc, dec = build_mlp_autoencoder((16, 16, 1), 6, (32, 32, 64), name="ae")
    critic = build_mlp((256,), (32, 32), 6, None, name="critic")
    m = ACAIAutoencoder(enc, dec, critic, seed=3)
    m.compile()
    return m, (IMAGES[:B_GLOBAL], np.arange(B_GLOBAL))


def dfvc(subheads=1):
    def build():
        from tfdeepclust.methods.dfvc import DFVC

        m = DFVC(
            (16, 16, 1),
            K,
            latent_dim=8,
            trunk="conv4",
            filters=(8, 8, 16, 16),
            fc_units=32,
            critic_hidden=(16, 16),
            subheads=subheads,
            seed=5,
        )
        m.compile(optimizer=keras.optimizers.Adam(1e-3))
        x1 = IMAGES[:B_GLOBAL]
        x2 = np.flip(IMAGES[B_GLOBAL : 2 * B_GLOBAL], axis=2).copy()
        return m, ((x1, x2), np.arange(B_GLOBAL))

    return build


CASES = {
    "asc2d": asc2d,
    "adec": adec("adec"),
    "adec_dec": adec("dec"),
    "adec_idec": adec("idec"),
    "acai_pretrain": acai,
    "dfvc": dfvc(),
    # The sub-heads' running scores (non-trainable, assigned in the step) among the weights.
    "dfvc_subheads": dfvc(subheads=3),
}


def one_step(builder, strategy, init_weights=None):
    keras.utils.set_random_seed(1)
    with strategy.scope():
        model, batch = builder()
        if init_weights is not None:
            model.set_weights(init_weights)
        init = [w.copy() for w in model.get_weights()]
        if hasattr(model, "attach_targets"):
            store = model.attach_targets(len(IMAGES))
            p = RNG_TARGETS.dirichlet(np.ones(K), size=len(IMAGES)).astype("float32")
            store.p.assign(p)
            if hasattr(model.clustering, "set_centroids"):
                dim = model.clustering.centroids.shape[1]
                model.clustering.set_centroids(CENTROIDS[:K, :dim])
        before = [w.copy() for w in model.get_weights()]
        ds = tf.data.Dataset.from_tensors(batch)
        hist = model.fit(ds, epochs=1, steps_per_epoch=1, verbose=0).history
        losses = {k: float(v[-1]) for k, v in hist.items()}
        pred = None
        if hasattr(model, "infer"):
            pred = model.infer(IMAGES[:20], batch_size=10)["probabilities"]
    return init, before, losses, model.get_weights(), pred


RNG_TARGETS = np.random.default_rng(7)
CENTROIDS = np.random.default_rng(8).normal(size=(K, 64)).astype("float32")


def main(names):
    default = tf.distribute.get_strategy()
    for name in names:
        global RNG_TARGETS
        RNG_TARGETS = np.random.default_rng(7)
        init, before, loss_1, w_1, pred_1 = one_step(CASES[name], default)
        RNG_TARGETS = np.random.default_rng(7)
        _, _, loss_2, w_2, pred_2 = one_step(CASES[name], MIRRORED, init_weights=init)
        changed = max(float(np.max(np.abs(a - b))) for a, b in zip(before, w_1, strict=True))
        step_1 = np.concatenate([(a - b).ravel() for a, b in zip(w_1, before, strict=True)])
        step_2 = np.concatenate([(a - b).ravel() for a, b in zip(w_2, before, strict=True)])
        out = {
            "case": name,
            "replicas": MIRRORED.num_replicas_in_sync,
            "losses_default": loss_1,
            "losses_mirrored": loss_2,
            "loss_max_abs_diff": max(abs(loss_1[k] - loss_2[k]) for k in loss_1),
            "weights_max_abs_diff": max(
                float(np.max(np.abs(a - b))) for a, b in zip(w_1, w_2, strict=True)
            ),
            "weights_max_abs_update": changed,
            # |Δ1 - Δ2| / |Δ1| over all weights: reduction order perturbs single weights whose
            # gradient nearly cancels (Adam's m / sqrt(v) then amplifies it), not the step.
            "update_rel_l2_diff": float(
                np.linalg.norm(step_1 - step_2) / max(np.linalg.norm(step_1), 1e-30)
            ),
            "predict_max_abs_diff": None
            if pred_1 is None
            else float(np.max(np.abs(pred_1 - pred_2))),
        }
        print("RESULT " + json.dumps(out), flush=True)


def first_replica_broadcast():
    """keep_first_replica on values that differ per replica (as two workers' k-means may)."""
    from tfdeepclust.distribute import keep_first_replica

    values = MIRRORED.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(
            [[np.nan, -1.5], [2.0, 3.0]] if ctx.replica_id_in_sync_group == 0 else [[9.0] * 2] * 2
        )
    )
    got = [t.numpy() for t in keep_first_replica(MIRRORED, values)]
    out = {"n": len(got), "all_first": all(np.array_equal(g, got[0], equal_nan=True) for g in got)}
    out["first"] = np.nan_to_num(got[0], nan=-99.0).tolist()
    print("BROADCAST " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
    first_replica_broadcast()
