"""DFVC model behaviour: reparameterisation, one-optimizer step, ablation switches, trunks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfdeepclust.data.augment import ViewPair, build_augmenter
from tfdeepclust.methods.dfvc import DFVC, reparameterise

TINY = dict(filters=(8, 16, 16, 32), fc_units=32, critic_hidden=(16,), latent_dim=8)


def _model(shape=(16, 16, 1), k=4, **kw):
    model = DFVC(shape, k, **{**TINY, **kw})
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def _views(n=12, shape=(16, 16, 1), seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.random((n, *shape)).astype("float32")
    return x1, np.clip(x1 + 0.05 * rng.normal(size=x1.shape), 0, 1).astype("float32")


def _snapshot(variables):
    return {v.path: np.array(v.numpy()) for v in variables}


def test_reparameterisation():
    mu = tf.constant([[1.0, -2.0]])
    log_var = tf.constant([[0.3, -1.0]])
    np.testing.assert_array_equal(reparameterise(mu, log_var, tf.zeros_like(mu)).numpy(), mu)
    with tf.GradientTape() as tape:
        tape.watch(mu)
        z = reparameterise(mu, log_var, tf.constant([[0.5, 2.0]]))
    np.testing.assert_allclose(tape.jacobian(z, mu).numpy().reshape(2, 2), np.eye(2))


def test_evaluation_is_deterministic_and_heads_are_distributions():
    model = _model()
    x, _ = _views()
    out1, out2 = model.infer(x), model.infer(x)
    np.testing.assert_array_equal(out1["probabilities"], out2["probabilities"])
    np.testing.assert_allclose(out1["probabilities"].sum(1), 1.0, atol=1e-5)
    assert out1["embedding"].shape == (12, 8) and model.predict(x).shape == (12,)


def test_every_variable_gets_a_gradient_and_one_step_changes_all_groups():
    model = _model()
    x1, x2 = _views()
    with tf.GradientTape() as tape:
        loss = model.compute_terms(x1, x2)["loss"]
    grads = tape.gradient(loss, model.trainable_variables)
    missing = [v.path for v, g in zip(model.trainable_variables, grads, strict=False) if g is None]
    assert not missing
    groups = {
        "encoder": model.feature_encoder.trainable_weights,
        "k_head": model.clustering.trainable_weights,
        "overcluster_head": model.overcluster_head.trainable_weights,
        "global_critic": model.global_critic.trainable_weights,
        "local_critic": model.local_critic.trainable_weights,
        "prior_means": [model.prior_means],
    }
    before = {name: _snapshot(vs) for name, vs in groups.items()}
    model.attach_targets(12)
    logs = model.train_on_batch((x1, x2), np.arange(12), return_dict=True)
    for name, vs in groups.items():
        after = _snapshot(vs)
        assert any(not np.array_equal(after[k], before[name][k]) for k in after), name
    assert int(model.optimizer.iterations.numpy()) == 1  # one optimizer, one update
    assert np.isfinite(logs["loss"])
    assert logs["l_dmi"] <= 0.0 and 0.0 <= logs["iic_k"] <= np.log(4) + 1e-6


def test_loss_is_eq_40():
    model = _model(alpha=3.0, beta=0.2, gamma=0.7)
    x1, x2 = _views()
    keras.utils.set_random_seed(0)
    t = {
        k: float(v)
        for k, v in model.compute_terms(x1, x2, training=False).items()
        if k != "head_mi"
    }
    expected = -(t["l_dmi"] + 3.0 * t["l_cmi"]) + 0.2 * t["l_vec"] + 0.7 * t["l_reg"]
    assert t["loss"] == pytest.approx(expected, rel=1e-5, abs=1e-5)
    assert t["l_dmi"] == pytest.approx(t["mi_global"] + t["mi_local"] + t["mi_cross"], abs=1e-5)
    assert t["l_cmi"] == pytest.approx(t["iic_k"] + t["iic_2k"], abs=1e-6)


@pytest.mark.parametrize(
    "switch, unused",
    [
        (dict(use_global=False), "global_critic"),
        (dict(use_local=False), "local_critic"),
        (dict(overcluster_factor=0), None),
        (dict(use_cmi=False, use_vec=False, use_reg=False), "clustering"),
    ],
)
def test_ablation_switches_cut_their_terms(switch, unused):
    model = _model(**switch)
    x1, x2 = _views()
    with tf.GradientTape() as tape:
        terms = model.compute_terms(x1, x2)
    if unused is None:
        assert model.overcluster_head is None and float(terms["iic_2k"]) == 0.0
        return
    weights = getattr(model, unused).trainable_weights
    grads = tape.gradient(terms["loss"], weights)
    assert all(g is None or not np.any(g.numpy()) for g in grads)


@pytest.mark.parametrize("head_input", ["sample", "mean"])
def test_head_input_is_what_the_heads_see_in_training(head_input):
    keras.utils.set_random_seed(0)
    model = _model(head_input=head_input)
    x1, x2 = _views()
    terms = model.compute_terms(x1, x2, training=True)
    # BN in training mode is a function of the batch: the same pass gives the same μ_z.
    _, mu, _ = model.feature_encoder(np.concatenate([x1, x2]), training=True)
    pi = model.clustering(mu)
    from tfdeepclust.losses.mutual_info import iic_mi

    on_mean = float(iic_mi(pi[:12], pi[12:]))
    if head_input == "mean":
        assert float(terms["iic_k"]) == pytest.approx(on_mean, abs=1e-5)
    else:  # the sampled z carries unit-scale noise at initialisation: another value (here
        # 1.5e-3 apart; 1e-3 to 1.3e-2 over seeds 0-5)
        assert abs(float(terms["iic_k"]) - on_mean) > 1e-4
    with pytest.raises(ValueError, match="head_input"):
        _model(head_input="z")


@pytest.mark.parametrize("has_bf16", [True, False])
def test_precision_bfloat16_where_the_cpu_has_it(monkeypatch, has_bf16):
    from tfdeepclust.nn import precision

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: has_bf16)
    x1, x2 = _views()
    keras.utils.set_random_seed(0)
    ref = _model()
    keras.utils.set_random_seed(0)
    model = _model(precision="auto")
    c, mu, log_var = model.feature_encoder(x1)
    # The trunk and critics compute in bfloat16 only where the CPU has it; weights, μ_z, the
    # heads and the losses stay float32 either way.
    assert c.dtype == ("bfloat16" if has_bf16 else "float32")
    assert mu.dtype == log_var.dtype == "float32"
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    assert model.infer(x1)["probabilities"].dtype == np.float32
    t_ref = ref.compute_terms(x1, x2, training=False)
    t = model.compute_terms(x1, x2, training=False)
    # Same initial weights: bfloat16's 8-bit mantissa moves the terms by well under 5 %.
    for name in ("l_dmi", "l_vec"):
        assert float(t[name]) == pytest.approx(float(t_ref[name]), rel=0.05), name


def test_decoder_ablation_adds_a_reconstruction_term():
    model = _model(recon_weight=0.2)
    x1, x2 = _views()
    t = model.compute_terms(x1, x2)
    assert model.decoder is not None and float(t["l_rec"]) > 0.0


def test_rejects_tabular_input_and_no_mi_term():
    with pytest.raises(ValueError, match="needs images"):
        DFVC((20,), 3)
    with pytest.raises(ValueError, match="at least one MI term"):
        DFVC((16, 16, 1), 3, use_global=False, use_local=False, use_cmi=False, **TINY)


# Both cases run compiled, as training does: the eager 96-px step segfaulted in oneDNN's
# conv2d_backprop_filter on an AVX-512 host (TF 2.21), a path no training run takes.
@pytest.mark.parametrize("shape, fmap", [((32, 32, 3), 4), ((96, 96, 3), 6)])
def test_resnet18_trunk_trains_on_colour_images(shape, fmap):
    model = _model(shape, k=3, trunk="auto", base_filters=4, fc_units=16)
    assert model.trunk == "resnet18"
    assert tuple(model.feature_encoder.outputs[0].shape[1:3]) == (fmap, fmap)
    x = np.random.default_rng(0).random((8, *shape)).astype("float32")
    pair = ViewPair(build_augmenter("dfvc_colour", 0, channels=3), "double")
    v1, v2 = pair(x)
    assert v1.shape == x.shape and not np.allclose(v1, v2)
    model.attach_targets(8)
    before = _snapshot(model.feature_encoder.trainable_weights)
    for _ in range(2):
        logs = model.train_on_batch((v1, v2), np.arange(8), return_dict=True)
    assert np.isfinite(logs["loss"])
    after = _snapshot(model.feature_encoder.trainable_weights)
    assert any(not np.array_equal(after[k], before[k]) for k in after)


def test_view_pair_modes():
    x = np.random.default_rng(0).random((4, 16, 16, 1)).astype("float32")
    aug = build_augmenter("dfvc_grey", 0)
    a, b = ViewPair(None, "none")(x)
    assert a is x and b is x
    a, b = ViewPair(aug, "single")(x)
    np.testing.assert_array_equal(a, x)
    assert not np.allclose(b, x)
    a, b = ViewPair(aug, "double")(x)
    assert not np.allclose(a, b) and not np.allclose(a, x)
    with pytest.raises(ValueError, match="needs an augmentation"):
        ViewPair(None, "double")
    with pytest.raises(ValueError, match="view mode"):
        ViewPair(aug, "triple")


def test_table1_weights():
    from tfdeepclust.recipes.dfvc import table1_weights

    assert table1_weights("mnist", 1) == (2.0, 0.5, 0.1)
    assert table1_weights("mnist_test", 1) == (2.0, 0.5, 0.1)
    assert table1_weights("stl10", 3) == (2.0, 0.3, 0.2)
    assert table1_weights("cifar100_20", 3) == (3.0, 0.2, 0.2)
    assert table1_weights("npz_mine", 3) == (3.0, 0.2, 0.2)


def test_one_softmax_head_is_a_plain_dense_softmax():
    from tfdeepclust.nn.heads import SoftmaxHeads

    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    heads = SoftmaxHeads(4, name="cluster_head")
    dense = keras.layers.Dense(4, activation="softmax", name="cluster_head")
    heads.build((None, 6)), dense.build((None, 6))
    assert [(v.name, v.shape) for v in heads.weights] == [(v.name, v.shape) for v in dense.weights]
    dense.set_weights(heads.get_weights())  # so old single-head weight files load unchanged
    np.testing.assert_allclose(heads(x), dense(x), atol=1e-6)
    heads.record(np.array([1.0]))  # a no-op with one head
    assert heads.head_score is None and heads.selected_head() == 0


def test_subheads_read_the_head_with_the_best_running_score():
    from tfdeepclust.nn.heads import SoftmaxHeads

    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    heads = SoftmaxHeads(4, n_heads=3, score_decay=0.5)
    every = heads.all_heads(x)
    assert every.shape == (5, 3, 4)
    np.testing.assert_allclose(np.sum(every, -1), 1.0, atol=1e-5)
    np.testing.assert_allclose(heads(x), every[:, 0])  # equal scores: the first head
    heads.record(np.array([0.1, 0.9, 0.4]))
    np.testing.assert_allclose(heads.head_score.numpy(), [0.05, 0.45, 0.2], atol=1e-7)
    np.testing.assert_allclose(heads(x), every[:, 1])
    for _ in range(3):  # a running average: head 2 takes over only after it stays better
        heads.record(np.array([0.1, 0.0, 0.4]))
    assert int(heads.selected_head()) == 2
    restored = SoftmaxHeads.from_config(heads.get_config())
    assert (restored.n_classes, restored.n_heads, restored.score_decay) == (4, 3, 0.5)


def test_subheads_are_trained_alike_and_the_labels_follow_the_best():
    model = _model(subheads=3)
    x1, x2 = _views()
    keras.utils.set_random_seed(0)
    t = model.compute_terms(x1, x2, training=False)
    mi = t["head_mi"].numpy()
    assert mi.shape == (3,) and len(set(np.round(mi, 6))) == 3  # own initialisations
    assert float(t["iic_k"]) == pytest.approx(float(np.mean(mi)), abs=1e-6)
    assert float(t["iic_k_read"]) == pytest.approx(float(mi[0]), abs=1e-6)
    assert model.overcluster_head.all_heads(np.zeros((2, 8), "float32")).shape == (2, 3, 8)
    model.attach_targets(12)
    model.train_on_batch((x1, x2), np.arange(12), return_dict=True)
    score = model.clustering.head_score.numpy()
    assert np.all(score > 0)  # every head's I(y, y′) recorded
    best = int(np.argmax(score))
    _, mu, _ = model.feature_encoder(x1)
    np.testing.assert_allclose(
        model.infer(x1)["probabilities"], model.clustering.all_heads(mu)[:, best], atol=1e-6
    )
