"""Pictures of a run: the cluster montage, the embedding map, the confusion matrix, and the
``report`` command that draws them again from a run folder."""

import numpy as np
import pytest
from helpers import run_python, tiny_images
from matplotlib import image as mpimg

import tfdeepclust
from tfdeepclust import pictures


def _thumbnail_rows(png) -> int:
    """Bands of pixel rows, at least 20 px tall, that hold dark pixels across the thumbnail
    area: one per row of thumbnails (black backgrounds on a white figure; titles are lower)."""
    img = mpimg.imread(png)[..., :3].mean(-1)
    w = img.shape[1]
    dark = (img[:, int(0.15 * w) : int(0.6 * w)] < 0.5).any(axis=1)
    edges = np.flatnonzero(np.diff(np.r_[0, dark.astype(int), 0]))
    runs = edges[1::2] - edges[::2]
    return int(np.sum(runs >= 20))


@pytest.mark.parametrize("k", [2, 3])
def test_the_montage_has_one_row_of_members_per_cluster(tmp_path, k):
    data = tiny_images(n=60)
    labels = np.arange(60) % k
    proba = np.full((60, k), 0.1, "float32")
    proba[np.arange(60), labels] = np.linspace(0.2, 0.9, 60)
    png = pictures.cluster_montage(
        data.x, labels, pictures.confidence(labels, proba, None), k, tmp_path / "c.png"
    )
    h, w = mpimg.imread(png).shape[:2]
    assert w > 800 and h > 60 * k
    # The first thumbnail column (most confident) sits right of the row labels.
    assert _thumbnail_rows(png) == k


def test_members_are_ranked_by_confidence_without_overlap():
    labels = np.array([0] * 10 + [1] * 3)
    conf = np.arange(13, dtype=float)
    top, bottom = pictures.ranked_members(labels, conf, 0, n=4)
    assert list(top) == [9, 8, 7, 6] and list(bottom) == [3, 2, 1, 0]
    top, bottom = pictures.ranked_members(labels, conf, 1, n=4)  # 3 members: all on top
    assert list(top) == [12, 11, 10] and len(bottom) == 0


def test_confidence_without_probabilities_is_closeness_to_the_cluster_mean():
    emb = np.array([[0.0], [1.0], [3.0], [10.0], [11.0]])
    labels = np.array([0, 0, 0, 1, 1])
    conf = pictures.confidence(labels, None, emb)
    assert np.argmax(conf[:3]) == 1 and conf[3] == conf[4]


def test_map_and_confusion_matrix(tmp_path):
    rng = np.random.default_rng(0)
    emb = np.concatenate([rng.normal(size=(50, 5)), rng.normal(size=(50, 5)) + 6])
    labels = np.repeat([1, 0], 50)  # clusters named the other way round from the labels
    y = np.repeat([0, 1], 50)
    with_labels = mpimg.imread(pictures.embedding_map(emb, labels, tmp_path / "m.png", y))
    without = mpimg.imread(pictures.embedding_map(emb, labels, tmp_path / "m1.png"))
    assert with_labels.shape[1] > 1.8 * without.shape[1]  # a panel per colouring
    cm = mpimg.imread(pictures.confusion_matrix_plot(y, labels, 2, tmp_path / "cm.png"))
    assert cm.shape[0] > 100 and cm.shape[1] > 100
    # More classes than clusters, with label values beyond K (e.g. 3 clusters of 10 digits).
    many = mpimg.imread(pictures.confusion_matrix_plot(y * 7, labels, 3, tmp_path / "c3.png"))
    assert many.shape[1] > cm.shape[1]  # a column per cluster


def _train_tiny(tmp_path, **options):
    """A quick DEC* run on 64 tiny images into ``tmp_path / "run"``; returns (data, results)."""
    data = tiny_images(n=64, side=16)
    res = tfdeepclust.train(
        "adec",
        data.x,
        data.y,
        budget="quick",
        mode="dec",
        verbose=0,
        output_dir=str(tmp_path / "run"),
        export=False,
        pretrain_cache_dir=str(tmp_path / "pre"),
        **options,
    )
    return data, res


def test_a_run_writes_its_pictures_and_report_draws_them_again(tmp_path):
    data, res = _train_tiny(tmp_path)
    run = tmp_path / "run"
    assert set(res["pictures"]) == {"clusters", "embedding_map", "confusion_matrix"}
    out = pictures.load_outputs(run / "outputs.npz")
    np.testing.assert_array_equal(out["labels"], res["labels"])
    assert out["probabilities"].shape == (64, 2) and out["embedding"].shape[0] == 64
    for name in ("clusters.png", "embedding_map.png", "confusion_matrix.png"):
        (run / name).unlink()
    # In-memory data has no name to load it by: the report says so, then takes it as a file.
    proc = run_python("-m", "tfdeepclust", "report", run, timeout=300)
    assert proc.returncode == 2 and "--data" in proc.stderr
    np.savez(tmp_path / "x.npz", x=data.x, y=data.y)
    proc = run_python("-m", "tfdeepclust", "report", run, "--data", f"npz:{tmp_path / 'x.npz'}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _thumbnail_rows(run / "clusters.png") == 2
    for name in ("embedding_map.png", "confusion_matrix.png"):
        assert (run / name).is_file()
    # Other data than the run's is refused.
    np.savez(tmp_path / "other.npz", x=data.x[::-1], y=data.y[::-1])
    proc = run_python("-m", "tfdeepclust", "report", run, "--data", f"npz:{tmp_path / 'other.npz'}")
    assert proc.returncode == 2 and "not the data this run trained on" in proc.stderr


def test_no_pictures_skips_them(tmp_path):
    _, res = _train_tiny(tmp_path, pictures=False)
    assert res["pictures"] == {}
    for name in ("clusters.png", "embedding_map.png", "confusion_matrix.png"):
        assert not (tmp_path / "run" / name).exists()
    assert (tmp_path / "run" / "outputs.npz").is_file()  # the report can still draw them
