"""A short real ASC2D run on a USPS subset must beat k-means on the raw pixels of that subset."""

import keras
import pytest

from tfdeepclust.config import CommonConfig
from tfdeepclust.metrics import cluster_accuracy
from tfdeepclust.recipes.asc2d import RECIPE, ASC2DConfig


@pytest.mark.slow
def test_short_asc2d_run_beats_raw_kmeans(usps, tmp_path):
    from sklearn.cluster import KMeans

    data = usps.subset(2000, seed=0)
    raw = KMeans(10, n_init=10, random_state=0).fit_predict(data.x.reshape(len(data.x), -1))
    raw_acc = cluster_accuracy(data.y, raw)

    keras.utils.set_random_seed(0)
    common = CommonConfig(
        dataset="usps",
        seed=0,
        batch_size=256,
        pretrain_epochs=60,
        maxiter=150,
        update_interval=30,
        verbose=0,
        kmeans_n_init=10,
    )
    cfg = ASC2DConfig()
    model = RECIPE.build(cfg, common, data)
    RECIPE.pretrain(model, cfg, common, data, None, [])
    RECIPE.initialise(model, cfg, common, data)
    info = RECIPE.cluster(model, cfg, common, data, [])
    labels = RECIPE.finalize(model, cfg, common, data)["labels"]
    acc = cluster_accuracy(data.y, labels)
    print(f"raw k-means ACC {raw_acc:.3f}, ASC2D ACC {acc:.3f}, {info['n_iter']} iterations")
    assert acc > raw_acc
