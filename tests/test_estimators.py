"""The scikit-learn estimators: the contract (sklearn's own checks), and images end to end."""

import pickle

import numpy as np
import pytest
from helpers import tiny_images
from sklearn.base import clone
from sklearn.utils import estimator_checks as checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from tfdeepclust.config import CommonConfig
from tfdeepclust.estimators import ADEC, ASC2D, DEC, DFVC, IDEC

QUICK = dict(budget="quick", verbose=0, kmeans_n_init=2)
# scikit-learn sets n_clusters=1 in these: one cluster is no clustering (every loss is
# constant), and the data layer refuses K < 2 with a message saying so.
K1_CHECKS = (
    "check_dont_overwrite_parameters",
    "check_fit2d_1feature",
    "check_fit2d_predict1d",
    "check_methods_subset_invariance",
)


# TensorFlow's CPU matmul without oneDNN (TF_ENABLE_ONEDNN_OPTS=0, or CPUs oneDNN does not
# serve) rounds a row's result by its position in the batch: transform / predict_proba of
# permuted samples differ by ~1e-7, above this check's tolerance. With oneDNN on it passes here.
BATCH_ORDER_CHECKS = ("check_methods_sample_order_invariance",)


@parametrize_with_checks(
    [DEC(n_clusters=2, **QUICK)],
    expected_failed_checks=lambda est: {
        **{name: "sets n_clusters=1, which the data layer refuses (K >= 2)" for name in K1_CHECKS},
        **{
            name: "float rounding depends on the row's place in the batch"
            for name in BATCH_ORDER_CHECKS
        },
    },
)
def test_sklearn_contract(estimator, check):
    """Every check scikit-learn has for a clusterer / transformer, on a DEC* run at the quick
    budget (ADEC's and IDEC*'s estimators are the same class with another ``mode``)."""
    check(estimator)


def _fit_free_checks():
    return [
        checks.check_estimator_cloneable,
        checks.check_estimator_repr,
        checks.check_no_attributes_set_in_init,
        checks.check_get_params_invariance,
        checks.check_set_params,
        checks.check_parameters_default_constructible,
        checks.check_estimators_unfitted,
        checks.check_do_not_raise_errors_in_init_or_set_params,
        checks.check_mixin_order,
    ]


@pytest.mark.parametrize("cls", [ASC2D, DFVC, ADEC, IDEC])
@pytest.mark.parametrize("check", _fit_free_checks(), ids=lambda c: c.__name__)
def test_sklearn_checks_without_fitting(cls, check):
    """The convolutional methods take images, which scikit-learn's fitting checks (tabular X)
    cannot give them; the checks that do not fit apply to every class."""
    check(cls.__name__, cls(n_clusters=2))


def test_parameters_are_the_scripts_options_with_their_defaults():
    params = ASC2D().get_params()
    assert params["n_clusters"] is None
    assert params["lambda1"] == 0.5 and params["init"] == "umap_gmm"  # the method's config
    assert params["budget"] == CommonConfig.budget and params["seed"] == CommonConfig.seed
    assert "dataset" not in params and "data_dir" not in params  # data comes as X
    assert "mode" not in DEC().get_params() and ADEC().get_params()["mode"] == "adec"
    with pytest.raises(TypeError, match="lambda9"):
        ASC2D(lambda9=1)


def test_features_into_a_convolutional_method_are_refused_with_the_fix():
    x = np.random.default_rng(0).normal(size=(20, 5))
    with pytest.raises(ValueError, match="needs images.*ADEC"):
        ASC2D(n_clusters=2).fit(x)


def test_asc2d_on_uint8_images_predicts_like_its_fit_and_survives_pickling(tmp_path):
    data = tiny_images()
    raw = np.round(data.x[..., 0] * 255).astype("uint8")  # [N, H, W] bytes, as a user holds them
    est = ASC2D(n_clusters=2, filters=(8, 16, 16), disc_hidden=(64,), init="kmeans", **QUICK)
    est.fit(raw, data.y)
    k = 2
    assert est.labels_.shape == (64,) and set(np.unique(est.labels_)) <= {0, 1}
    assert est.results_["metrics"]["acc"] is not None  # y only evaluates
    # New data goes through the training data's scaling (uint8 -> [0, 1]).
    np.testing.assert_array_equal(est.predict(raw), est.labels_)
    proba = est.predict_proba(raw)
    assert proba.shape == (64, k) and np.allclose(proba.sum(1), 1, atol=1e-5)
    embedding = est.transform(raw)
    assert est.cluster_centers_.shape == (k, embedding.shape[1])
    with pytest.raises(ValueError, match="features"):
        est.predict(raw[:, :4, :4])
    with pytest.raises(ValueError, match="the model takes"):
        est.predict(np.repeat(raw[..., None], 3, axis=-1))  # RGB into a grayscale model
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(raw), est.predict(raw))
    np.testing.assert_allclose(again.transform(raw), embedding, rtol=1e-5, atol=1e-6)
    assert clone(est).get_params() == est.get_params()


def test_output_dir_keeps_what_a_script_run_keeps(tmp_path):
    data = tiny_images()
    est = DFVC(
        n_clusters=2,
        output_dir=str(tmp_path / "run"),
        export_dir=str(tmp_path / "saved_models"),
        filters=(8, 8, 16, 16),
        fc_units=32,
        critic_hidden=(16, 16),
        **QUICK,
    ).fit(data.x, data.y)
    run = tmp_path / "run"
    for name in ("results.json", "labels.csv", "outputs.npz", "clusters.png"):
        assert (run / name).is_file(), name
    assert est.results_["export_path"] is not None
    # DFVC has no centroids: its centres are the mean embedding of each cluster.
    emb = est.transform(data.x)
    for c in np.unique(est.labels_):
        np.testing.assert_allclose(
            est.cluster_centers_[c], emb[est.labels_ == c].mean(0), rtol=1e-4, atol=1e-5
        )


def test_without_output_dir_the_summary_names_no_deleted_file(capsys):
    data = tiny_images()
    est = DEC(n_clusters=2, **QUICK).fit(data.x.reshape(len(data.x), -1))
    out = capsys.readouterr().out
    assert "files: none kept" in out and "results:" not in out
    assert est.results_["results_path"] is None and est.results_["labels_path"] is None
    assert est.results_["metrics"]["acc"] is None  # no y: nothing to evaluate against


def test_the_estimators_are_reachable_from_the_package():
    import tfdeepclust

    assert tfdeepclust.ASC2D is ASC2D and tfdeepclust.DEC is DEC
