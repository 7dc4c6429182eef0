"""Short real runs of every method must beat k-means on the raw pixels of the same subset.

Small data and budgets (each run well under 2 CPU minutes), but the methods' own losses,
alternation and labels. Where a budget this small needs a faster setting than the paper's, the
setting is named in the test and the paper's value stays the default.
"""

import keras
import pytest

from tfdeepclust.config import CommonConfig
from tfdeepclust.metrics import cluster_accuracy
from tfdeepclust.run_spec import resolve_method_config


def raw_kmeans_acc(data) -> float:
    from sklearn.cluster import KMeans

    raw = KMeans(data.n_clusters, n_init=10, random_state=0).fit_predict(
        data.x.reshape(len(data.x), -1)
    )
    return cluster_accuracy(data.y, raw)


def train_and_label(recipe, cfg, common, data) -> tuple[float, dict]:
    """Every phase of a run (pretrain, k-means, clustering) in process; returns (ACC, info)."""
    keras.utils.set_random_seed(common.seed)
    cfg = resolve_method_config(recipe, cfg, common, data)
    model = recipe.build(cfg, common, data)
    recipe.pretrain(model, cfg, common, data, None, [])
    recipe.initialise(model, cfg, common, data)
    info = recipe.cluster(model, cfg, common, data, [])
    labels = recipe.finalize(model, cfg, common, data)["labels"]
    return cluster_accuracy(data.y, labels), info


@pytest.mark.slow
def test_short_asc2d_run_beats_raw_kmeans(usps):
    """The default recipe (augmented pretraining at Adam 1e-3, UMAP + GMM start, the paper's
    joint phase with its 2000-2000 discriminator), short budget: 80 CAE epochs (640 steps),
    then 60 joint iterations. Measured on 2,000-image subsets, seeds 0 / 1 / 2: raw k-means
    0.658 / 0.676 / 0.660, ASC2D 0.776 / 0.912 / 0.753, so the smallest margin was 0.093; this
    test (seed 0) asks for 0.05. With 30 epochs seed 1 ended below raw k-means (a merged pair of
    digits), which is why the budget is 80."""
    from tfdeepclust.recipes.asc2d import RECIPE, ASC2DConfig

    data = usps.subset(2000, seed=0)
    common = CommonConfig(
        dataset="usps",
        seed=0,
        batch_size=256,
        pretrain_epochs=80,
        maxiter=60,
        update_interval=20,
        verbose=0,
        kmeans_n_init=10,
    )
    acc, info = train_and_label(RECIPE, ASC2DConfig(), common, data)
    raw = raw_kmeans_acc(data)
    print(f"raw k-means ACC {raw:.3f}, ASC2D ACC {acc:.3f}, {info['n_iter']} iterations")
    assert acc > raw + 0.05


@pytest.mark.slow
def test_short_adec_run_beats_raw_kmeans():
    """Mice Protein (1,080 x 77, the paper's tabular set): ACAI pretraining at Adam 1e-3
    instead of the paper's 1e-4 for 200 epochs (1,000 iterations), then 60 iterations (two
    refreshes) of the default ADEC phase. Measured on seeds 0 / 1, oneDNN off: AE + k-means
    0.475 / 0.470, ADEC 0.447 / 0.500; oneDNN on: 0.478 / 0.459, ADEC 0.459 / 0.489; raw k-means
    0.334. The smallest margin was 0.113; this test (seed 0) asks for 0.05. Longer ADEC phases
    are not stable from this start (300 iterations: 0.44 with oneDNN on, 0.37 with it off; the
    adversarial phase drifts, issue #28), and on USPS subsets the short phase was within +-0.02
    of raw k-means and changed sign between CPUs, so neither is tested here."""
    from tfdeepclust.data import load_dataset
    from tfdeepclust.recipes.adec import RECIPE, ADECConfig

    data = load_dataset("mice_protein")
    common = CommonConfig(
        dataset="mice_protein",
        seed=0,
        batch_size=256,
        pretrain_epochs=200,
        maxiter=60,
        update_interval=30,
        verbose=0,
        kmeans_n_init=10,
    )
    acc, info = train_and_label(RECIPE, ADECConfig(lr_pretrain=1e-3), common, data)
    raw = raw_kmeans_acc(data)
    print(f"raw k-means ACC {raw:.3f}, ADEC ACC {acc:.3f}, {info['n_iter']} iterations")
    assert acc > raw + 0.05


@pytest.mark.slow
def test_short_dfvc_run_beats_raw_kmeans(shared_data):
    """The paper's encoder (64-512 channels) trains at ~35 image pairs/s on 2 CPU cores, so the
    test uses a narrow version of the same architecture and Adam 1e-3; everything else (all
    five loss terms, Table I weights, double augmentation, evaluation on mu_z) is the default.
    Measured: raw k-means 0.502, DFVC 0.616 after 150 iterations (0.639 after 300)."""
    from tfdeepclust.data import load_dataset
    from tfdeepclust.recipes.dfvc import RECIPE, DFVCConfig

    data = load_dataset("mnist_test", data_dir=str(shared_data)).subset(1000, seed=0)
    common = CommonConfig(
        dataset="mnist_test",
        seed=0,
        batch_size=128,
        maxiter=150,
        update_interval=50,
        tol=0.0,
        verbose=0,
    )
    cfg = DFVCConfig(
        filters=(16, 32, 64, 128), fc_units=256, critic_hidden=(128, 128), latent_dim=32, lr=1e-3
    )
    assert RECIPE.resolve_config(cfg, common, data).alpha == 2.0  # Table I, MNIST
    acc, info = train_and_label(RECIPE, cfg, common, data)
    raw = raw_kmeans_acc(data)
    print(f"raw k-means ACC {raw:.3f}, DFVC ACC {acc:.3f}, {info['n_iter']} iterations")
    assert info["n_iter"] == 150 and info["stop_reason"] == "maxiter"
    assert acc > raw
