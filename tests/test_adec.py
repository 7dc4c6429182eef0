"""ADEC: ACAI losses and routing, the three-network step, baselines (METHODS §5.15-17)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import tiny_images

from tfdeepclust.losses.acai import (
    acai_autoencoder_loss,
    acai_critic_loss,
    interpolate,
    sample_alpha,
)
from tfdeepclust.methods.acai import ACAIAutoencoder
from tfdeepclust.methods.adec import ADEC, build_adec_family
from tfdeepclust.nn.mlp_autoencoder import build_mlp, build_mlp_autoencoder
from tfdeepclust.recipes.adec import ADECConfig

SMALL = dict(hidden=(16, 16, 32), disc_hidden=(16,), latent_dim=4)


def _snap(ws):
    return [np.array(w) for w in ws]


def _changed(before, ws):
    return [not np.array_equal(b, np.array(w)) for b, w in zip(before, ws, strict=True)]


def test_acai_loss_hand_values():
    x = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    x_rec = np.array([[0.0, 0.0], [0.0, 1.0]], "float32")
    c_alpha = np.array([0.2, -0.4], "float32")
    # MSE per element: (1 + 0) / 2 for sample 0, 0 for sample 1 -> mean 0.25; reg (.04 + .16) / 2
    assert float(acai_autoencoder_loss(x, x_rec, c_alpha, lam=0.5)) == pytest.approx(
        0.25 + 0.5 * 0.1
    )
    alpha = np.array([0.5, 0.0], "float32")
    blend = np.array([0.1, 0.3], "float32")
    # ((.2 - .5)² + (-.4)²) / 2 + (.01 + .09) / 2
    assert float(acai_critic_loss(c_alpha, alpha, blend)) == pytest.approx(0.125 + 0.05)
    assert float(acai_autoencoder_loss(x, x_rec, c_alpha)) >= 0
    assert float(acai_critic_loss(c_alpha, alpha, blend)) >= 0


def test_interpolation_endpoints_and_coefficient_ranges():
    z = np.arange(8, dtype="float32").reshape(4, 2)
    np.testing.assert_allclose(interpolate(z, np.ones(4, "float32")), z)
    np.testing.assert_allclose(interpolate(z, np.zeros(4, "float32")), z[::-1])  # the partner
    u = np.linspace(0, 1, 101).astype("float32")
    assert np.all(
        (np.asarray(sample_alpha(u, "acai")) >= 0) & (np.asarray(sample_alpha(u, "acai")) <= 0.5)
    )
    np.testing.assert_allclose(sample_alpha(u, "uniform"), u)
    with pytest.raises(ValueError):
        sample_alpha(u, "bogus")


def _acai(ae_lr=1e-3, critic_lr=1e-3, **kw):
    enc, dec = build_mlp_autoencoder((6, 6, 1), 3, (16, 16))
    critic = build_mlp((36,), (16,), 10, name="critic")
    m = ACAIAutoencoder(enc, dec, critic, seed=0, **kw)
    m.compile(keras.optimizers.Adam(ae_lr), keras.optimizers.Adam(critic_lr))
    return m


def test_acai_gamma_in_range():
    m = _acai()
    for _ in range(20):
        _, gamma = m.draw_coefficients(8)
        assert 0.0 <= float(gamma) <= 0.5
    with pytest.raises(ValueError):
        _acai(gamma_mode="bogus")


@pytest.mark.parametrize("frozen", ["ae", "critic"])
def test_acai_each_update_touches_only_its_own_variables(frozen):
    m = _acai(ae_lr=0.0 if frozen == "ae" else 1e-3, critic_lr=0.0 if frozen == "critic" else 1e-3)
    x = np.random.default_rng(0).random((16, 6, 6, 1)).astype("float32")
    ae_vars = m.encoder.trainable_weights + m.decoder.trainable_weights
    ae, cr = _snap(ae_vars), _snap(m.critic.trainable_weights)
    logs = m.train_on_batch(x, return_dict=True)
    assert logs["loss"] >= 0 and logs["critic_loss"] >= 0
    if frozen == "ae":
        assert not any(_changed(ae, ae_vars)) and all(_changed(cr, m.critic.trainable_weights))
    else:
        assert all(_changed(ae, ae_vars)) and not any(_changed(cr, m.critic.trainable_weights))


def _adec(mode="adec", **kw):
    m = build_adec_family(mode, (6, 6, 1), 3, **SMALL, **kw)
    m.compile()
    x = np.random.default_rng(0).random((48, 6, 6, 1)).astype("float32")
    m.init_centroids(x, seed=0, n_init=2)
    store = m.attach_targets(len(x))
    from tfdeepclust.losses.dec import target_distribution

    store.p.assign(target_distribution(m.soft_assign(x)).astype("float32"))
    return m, x


@pytest.mark.parametrize("fakes", ["reconstruction", "interpolation"])
def test_adec_step_counters_and_routing(fakes):
    m, x = _adec(n_aux=2, disc_fakes=fakes)
    enc, mu = _snap(m.encoder.trainable_weights), _snap(m.clustering.trainable_weights)
    dec, disc = _snap(m.decoder.trainable_weights), _snap(m.discriminator.trainable_weights)
    m.train_on_batch(x[:24], np.arange(24))  # 8 joint + 2 x 8 auxiliary samples
    assert int(m.d_optimizer.iterations.numpy()) == 1
    assert int(m.encoder_optimizer.iterations.numpy()) == 1
    assert int(m.decoder_optimizer.iterations.numpy()) == 1 + 2
    assert all(_changed(enc, m.encoder.trainable_weights))
    assert all(_changed(mu, m.clustering.trainable_weights))
    assert all(_changed(dec, m.decoder.trainable_weights))
    assert all(_changed(disc, m.discriminator.trainable_weights))


def test_adec_encoder_step_leaves_decoder_unchanged():
    m, x = _adec(n_aux=0)
    m.decoder_optimizer.learning_rate.assign(0.0)  # isolate the encoder step's effect
    dec = _snap(m.decoder.trainable_weights)
    m.train_on_batch(x[:16], np.arange(16))
    assert not any(_changed(dec, m.decoder.trainable_weights))


def test_adec_decoder_step_gives_no_encoder_update():
    m, x = _adec()
    enc, mu = _snap(m.encoder.trainable_weights), _snap(m.clustering.trainable_weights)
    dec = _snap(m.decoder.trainable_weights)
    tf.function(m._decoder_step)(tf.constant(x[:8]))
    assert not any(_changed(enc, m.encoder.trainable_weights))
    assert not any(_changed(mu, m.clustering.trainable_weights))
    assert all(_changed(dec, m.decoder.trainable_weights))


def _not_discriminator(m):
    """Every weight a discriminator update must leave alone."""
    return (
        m.encoder.trainable_weights + m.decoder.trainable_weights + m.clustering.trainable_weights
    )


def test_adec_discriminator_step_changes_only_discriminator():
    m, x = _adec()
    others = _snap(_not_discriminator(m))
    disc = _snap(m.discriminator.trainable_weights)
    xr = m.decoder(m.encoder(x[:8]))
    tf.function(m._discriminator_step)(tf.constant(x[:8]), xr)
    assert not any(_changed(others, _not_discriminator(m)))
    assert all(_changed(disc, m.discriminator.trainable_weights))


def test_interpolation_fakes_are_decoded_mixes_of_partner_embeddings():
    m, x = _adec(disc_fakes="interpolation")
    z = m.encoder(x[:8])
    x_rec = m.decoder(z)
    fakes = m.discriminator_fakes(z, x_rec).numpy()
    assert fakes.shape == tuple(x_rec.shape)
    assert np.abs(fakes - x_rec.numpy()).max() > 1e-4  # not the reconstructions
    # A batch that is its own reversal pairs each sample with an identical partner: every mix
    # is the sample's own embedding, so the fakes are its reconstructions.
    sym = np.concatenate([x[:4], x[:4][::-1]])
    z_sym = m.encoder(sym)
    np.testing.assert_allclose(
        m.discriminator_fakes(z_sym, m.decoder(z_sym)).numpy(), m.decoder(z_sym).numpy(), atol=1e-5
    )
    # The reconstruction reading hands the reconstructions through.
    m_rec, _ = _adec()
    np.testing.assert_array_equal(m_rec.discriminator_fakes(z, x_rec).numpy(), x_rec.numpy())


def test_interpolation_fakes_follow_the_seed():
    draws, decoder = [], None
    z = tf.constant(np.random.default_rng(0).normal(size=(8, SMALL["latent_dim"])), "float32")
    for seed in (3, 3, 4):
        m = build_adec_family("adec", (6, 6, 1), 3, seed=seed, disc_fakes="interpolation", **SMALL)
        decoder = decoder or m.decoder.get_weights()
        m.decoder.set_weights(decoder)  # only the draws may differ
        draws.append(m.discriminator_fakes(z, m.decoder(z)).numpy())
    np.testing.assert_array_equal(draws[0], draws[1])
    assert np.abs(draws[0] - draws[2]).max() > 0


def test_an_unknown_fake_source_fails_at_construction():
    with pytest.raises(ValueError, match="disc_fakes"):
        build_adec_family("adec", (4,), 2, disc_fakes="noise")


def test_the_discriminator_warm_up_trains_only_the_discriminator():
    m, x = _adec()
    others = _snap(_not_discriminator(m))
    disc = _snap(m.discriminator.trainable_weights)
    batches = tf.data.Dataset.from_tensor_slices((x, np.arange(len(x)))).batch(8).repeat()
    out = m.warm_up_discriminator(batches, 5)
    assert out["iterations"] == 5 and int(m.d_optimizer.iterations.numpy()) == 5
    assert np.isfinite(out["d_loss_first"]) and np.isfinite(out["d_loss_last"])
    assert not any(_changed(others, _not_discriminator(m)))
    assert all(_changed(disc, m.discriminator.trainable_weights))
    assert int(m.encoder_optimizer.iterations.numpy()) == 0


def test_reconstruction_gradient_never_reaches_the_encoder():
    m, x = _adec()
    with tf.GradientTape() as tape:
        z = tf.stop_gradient(m.encoder(x[:8]))
        from tfdeepclust.losses.acai import mse_per_element

        loss = mse_per_element(x[:8], m.decoder(z))
    assert all(g is None for g in tape.gradient(loss, m.encoder.trainable_weights))


@pytest.mark.parametrize(
    "mode, groups", [("dec", {"encoder_optimizer"}), ("idec", {"encoder_optimizer"})]
)
def test_baselines(mode, groups):
    m, x = _adec(mode=mode)
    assert set(m.optimizers_by_name()) == groups and m.n_aux == 0
    dec = _snap(m.decoder.trainable_weights)
    logs = m.train_on_batch(x[:16], np.arange(16), return_dict=True)
    assert "l_kl" in logs
    # DEC* has no decoder in its loss; IDEC* trains it jointly with the encoder.
    assert any(_changed(dec, m.decoder.trainable_weights)) == (mode == "idec")


def test_defaults_have_no_adversarial_weight_other_than_one():
    cfg = ADECConfig()
    assert cfg.adv_weight == 1.0 and cfg.n_aux == 5
    assert ADEC((4,), 2, **SMALL).adv_weight == 1.0


def test_the_default_recipe_is_decdas_for_images_and_the_papers_for_tabular_data():
    """train_adec.py's default is DEC* (the best variant measured) on DEC-DA's pretraining for
    images and on the paper's for tabular data; --preset paper is the paper's text; explicit
    values win and each rate follows the optimizer or objective used."""
    from tfdeepclust.config import CommonConfig
    from tfdeepclust.data.dataset import ClusteringData
    from tfdeepclust.recipes.adec import RECIPE
    from tfdeepclust.run_spec import resolve, with_preset

    x = np.random.default_rng(0).random((40, 5)).astype("float32")
    tiny_tabular = lambda: ClusteringData(x, np.arange(40) % 2, 2, "tab", "0" * 64)  # noqa: E731

    def resolved(data, **given):
        common = CommonConfig(batch_size=16, seed=0, verbose=0)
        return resolve(RECIPE, common, ADECConfig(**SMALL, **given), data).config

    images = resolved(tiny_images())
    assert images.mode == "dec"
    assert (images.pretrain_objective, images.pretrain_optimizer) == ("mse", "sgd")
    assert (images.lr_pretrain, images.lr_cluster) == (1.0, 0.01)
    tabular = resolved(tiny_tabular())
    assert (tabular.pretrain_objective, tabular.pretrain_optimizer) == ("acai", "adam")
    assert (tabular.lr_pretrain, tabular.lr_cluster) == (1e-4, 1e-3)
    mixed = resolved(tiny_images(), pretrain_objective="acai", lr_pretrain=3e-4)
    assert (mixed.pretrain_optimizer, mixed.lr_pretrain, mixed.lr_cluster) == ("adam", 3e-4, 1e-3)
    paper = with_preset(RECIPE.presets, "paper", {})
    on_images = resolved(tiny_images(), **paper)
    assert {k: getattr(on_images, k) for k in ADECConfig.PAPER_VALUES} == ADECConfig.PAPER_VALUES
    assert RECIPE.budgets["default"]["pretrain_epochs"] == 500  # DEC-DA's


def test_the_three_models_share_one_checkpoint_layout_and_configs_name_their_class():
    from tfdeepclust.methods.adec import DECStar, IDECStar

    models = [build_adec_family(mode, (12,), 3, **SMALL) for mode in ("adec", "dec", "idec")]
    assert [type(m) for m in models] == [ADEC, DECStar, IDECStar]
    layouts = [[(v.path, tuple(v.shape)) for v in m.weights] for m in models]
    assert layouts[0] == layouts[1] == layouts[2]  # a DEC* checkpoint restores into any of them
    # A config written before the split (class ADEC, mode "dec") builds DEC*.
    old = {**models[0].get_config(), "mode": "dec"}
    assert type(ADEC.from_config(old)) is DECStar
    assert isinstance(build_adec_family("dec", (12,), 3, n_aux=5, **SMALL), DECStar)


def test_tabular_input_and_config_roundtrip():
    m = ADEC((77,), 8, **SMALL)
    assert m.embed(np.zeros((3, 77), "float32")).shape == (3, 4)
    clone = ADEC.from_config(m.get_config())
    assert clone.get_config() == m.get_config()
    with pytest.raises(ValueError, match="mode"):
        build_adec_family("bogus", (4,), 2)


def test_gradient_cosine_identity_and_range():
    from tfdeepclust.training.diagnostics import gradient_cosine

    g = [tf.constant([[1.0, 2.0]]), tf.constant([3.0]), None]
    assert gradient_cosine(g, g) == pytest.approx(1.0)
    assert gradient_cosine(g, [-t if t is not None else None for t in g]) == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        a = [tf.constant(rng.normal(size=(3, 2)))]
        b = [tf.constant(rng.normal(size=(3, 2)))]
        assert -1.0 <= gradient_cosine(a, b) <= 1.0
    assert gradient_cosine([tf.zeros(3)], [tf.ones(3)]) is None


def test_feature_randomness_is_one_when_targets_are_the_mapped_truth():
    from tfdeepclust.training.diagnostics import FeatureDiagnostics

    m, x = _adec(mode="dec")
    y = np.arange(len(x)) % 3
    m.target_store.labels_prev.assign(y)  # clusters = classes: the Hungarian map is identity
    m.target_store.p.assign(np.eye(3, dtype="float32")[y])
    diag = FeatureDiagnostics(x, y, np.arange(16), every=1)
    diag.set_model(m)
    entry = diag.measure()
    assert entry["fr"] == pytest.approx(1.0, abs=1e-5)
    assert entry["fd"] is None  # DEC* has no self-supervised term


@pytest.mark.parametrize("mode", ["adec", "idec"])
def test_feature_drift_in_range(mode):
    from tfdeepclust.training.diagnostics import FeatureDiagnostics

    m, x = _adec(mode=mode)
    y = np.arange(len(x)) % 3
    m.target_store.labels_prev.assign(np.roll(y, 1))
    diag = FeatureDiagnostics(x, y, np.arange(16), every=1)
    diag.set_model(m)
    entry = diag.measure()
    assert -1.0 <= entry["fr"] <= 1.0 and -1.0 <= entry["fd"] <= 1.0


def test_pretraining_options_key_validation_and_plain_mse_training():
    """DEC-DA's control pretraining (plain MSE, SGD) on image inputs with a flat decoder, and
    the per-network clustering learning rates."""
    import dataclasses

    from tfdeepclust.config import CommonConfig
    from tfdeepclust.recipes.adec import RECIPE

    data = tiny_images()
    common = CommonConfig(batch_size=16, seed=0, verbose=0, pretrain_epochs=30)
    paper = {k: v for k, v in ADECConfig.PAPER_VALUES.items() if k != "mode"}
    base = ADECConfig(**SMALL, **paper)
    key = RECIPE.pretrain_key(base, common, data)
    assert "objective" not in key and "opt" not in key  # caches from before the options stay valid
    mse = dataclasses.replace(base, pretrain_objective="mse")
    sgd = dataclasses.replace(mse, pretrain_optimizer="sgd", lr_pretrain=1.0)
    keys = [RECIPE.pretrain_key(c, common, data) for c in (base, mse, sgd)]
    assert len({str(k) for k in keys}) == 3
    for bad in (
        dataclasses.replace(base, pretrain_objective="auto"),  # unresolved
        dataclasses.replace(base, pretrain_objective="vae"),
        dataclasses.replace(base, pretrain_optimizer="rmsprop"),
    ):
        with pytest.raises(ValueError, match="pretrain_o"):
            RECIPE.build(bad, common, data)

    per_net = RECIPE.build(
        dataclasses.replace(base, lr_cluster=0.01, lr_decoder=1.0, lr_disc=None), common, data
    )
    rates = [
        float(o.learning_rate)
        for o in (per_net.encoder_optimizer, per_net.decoder_optimizer, per_net.d_optimizer)
    ]
    assert rates == pytest.approx([0.01, 1.0, 0.01])

    keras.utils.set_random_seed(0)
    model = RECIPE.build(sgd, common, data)

    def recon():
        out = model.decoder(model.encoder(data.x))
        return float(np.mean((np.asarray(out) - data.x.reshape(64, -1)) ** 2))

    before = recon()
    out = RECIPE.pretrain(model, sgd, common, data, None, [])
    assert out["iterations"] == 30 * 4 and out["final_loss"] is not None
    assert recon() < 0.75 * before  # measured 0.188 -> 0.105 (augmented 8x8 inputs)
