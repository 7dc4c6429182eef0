"""A short real DFVC run on an MNIST subset must beat k-means on the raw pixels of that subset.

The paper's encoder (64-512 channels) trains at ~35 image pairs/s on 2 CPU cores, so the test
uses a narrow version of the same architecture and Adam 1e-3; everything else (all five loss
terms, Table I weights, double augmentation, evaluation on μ_z) is the method's default.
"""

import keras
import pytest

from tfdeepclust.config import CommonConfig
from tfdeepclust.metrics import cluster_accuracy
from tfdeepclust.recipes.dfvc import RECIPE, DFVCConfig


@pytest.mark.slow
def test_short_dfvc_run_beats_raw_kmeans(shared_data):
    from sklearn.cluster import KMeans

    from tfdeepclust.data import load_dataset

    data = load_dataset("mnist_test", data_dir=str(shared_data)).subset(1000, seed=0)
    raw = KMeans(10, n_init=10, random_state=0).fit_predict(data.x.reshape(len(data.x), -1))
    raw_acc = cluster_accuracy(data.y, raw)

    keras.utils.set_random_seed(0)
    common = CommonConfig(
        dataset="mnist_test",
        seed=0,
        batch_size=128,
        maxiter=300,
        update_interval=100,
        tol=0.0,
        verbose=0,
    )
    cfg = RECIPE.resolve_config(
        DFVCConfig(
            filters=(16, 32, 64, 128),
            fc_units=256,
            critic_hidden=(128, 128),
            latent_dim=32,
            lr=1e-3,
        ),
        common,
        data,
    )
    assert (cfg.alpha, cfg.beta, cfg.gamma) == (2.0, 0.5, 0.1)  # Table I, MNIST
    model = RECIPE.build(cfg, common, data)
    info = RECIPE.cluster(model, cfg, common, data, [])
    labels = RECIPE.finalize(model, cfg, common, data)["labels"]
    acc = cluster_accuracy(data.y, labels)
    print(f"raw k-means ACC {raw_acc:.3f}, DFVC ACC {acc:.3f}, {info['n_iter']} iterations")
    assert info["n_iter"] == 300 and info["stop_reason"] == "maxiter"
    assert acc > raw_acc
