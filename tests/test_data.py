"""Data layer: real files, the packaged sets, user data, fail-fast and error messages."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tfdeepclust.data import DataError, DataNotFoundError, dataset_names, load_dataset

USPS_TRAIN = [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]
USPS_TEST = [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]
MNIST_TRAIN = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_usps_packaged(usps):
    assert usps.x.shape == (9298, 16, 16, 1) and usps.x.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(usps.y), np.add(USPS_TRAIN, USPS_TEST))
    assert usps.n_clusters == 10 and usps.info["usps_version"] == "9298"
    # Already in [0, 1] and not rescaled again: 2001 grey levels in steps of 0.0005.
    assert usps.x.min() == 0.0 and usps.x.max() == 1.0
    levels = usps.x * 2000
    np.testing.assert_allclose(levels, np.round(levels), atol=2e-3)
    assert len(np.unique(usps.x)) > 1000
    assert abs(np.linalg.norm(usps.x.reshape(len(usps.x), -1), axis=1).mean() - 7.3) < 0.3


def test_usps_loads_identically_twice(usps):
    again = load_dataset("usps")
    assert again.sha256 == usps.sha256


def test_mice_protein():
    d = load_dataset("mice_protein")
    assert d.x.shape == (1080, 77) and not np.isnan(d.x).any()
    assert d.n_clusters == 8 and d.info["missing_cells_zeroed"] == 1396
    np.testing.assert_array_equal(np.bincount(d.y), [135, 150, 105, 135, 135, 150, 135, 135])
    assert abs(np.linalg.norm(d.x, axis=1).mean() - 9.0) < 0.1  # docs/methods.md §1.7
    unit = load_dataset("mice_protein", row_norm="unit_l2")
    np.testing.assert_allclose(np.linalg.norm(unit.x, axis=1), 1.0, rtol=1e-5)


def _write_reuters(folder, x, y):
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "reutersidf10k.npy", {"data": x, "label": y})  # DEC-keras' format


def test_reuters10k_reads_decs_file_and_fails_fast_without_it(tmp_path, monkeypatch):
    import time

    from tfdeepclust.data.dataset import DataError, DataNotFoundError

    monkeypatch.delenv("TFDEEPCLUST_DATA_DIR", raising=False)
    rng = np.random.default_rng(0)
    x = rng.random((40, 2000))
    x = x / np.linalg.norm(x, axis=1, keepdims=True) * np.sqrt(2000)  # DEC: (1/d)||x||^2 = 1
    y = np.arange(40) % 4
    _write_reuters(tmp_path / "reuters", x, y)  # found in <data-dir>/reuters/ too
    d = load_dataset("reuters10k", data_dir=tmp_path)
    assert d.x.shape == (40, 2000) and d.x.dtype == np.float32 and d.n_clusters == 4
    np.testing.assert_allclose(d.x, x.astype(np.float32))  # used as stored, no rescaling
    np.testing.assert_array_equal(d.y, y)
    assert abs(d.info["mean_row_norm"] - np.sqrt(2000)) < 1e-3
    unit = load_dataset("reuters10k", data_dir=tmp_path, row_norm="unit_l2")
    np.testing.assert_allclose(np.linalg.norm(unit.x, axis=1), 1.0, rtol=1e-5)

    empty = tmp_path / "empty"
    empty.mkdir()
    t0 = time.perf_counter()
    with pytest.raises(DataNotFoundError, match="reutersidf10k.npy not found.*make_reuters_data"):
        load_dataset("reuters10k", data_dir=empty)
    with pytest.raises(DataNotFoundError, match="no --data-dir"):
        load_dataset("reuters10k")
    assert time.perf_counter() - t0 < 5  # no download attempt
    _write_reuters(tmp_path / "bad_labels", x, y + 4)
    with pytest.raises(DataError, match=r"labels in \[4, 7\]"):
        load_dataset("reuters10k", data_dir=tmp_path / "bad_labels")
    (tmp_path / "not_a_dict").mkdir()
    np.save(tmp_path / "not_a_dict" / "reutersidf10k.npy", x)
    with pytest.raises(DataError, match="no dict with 'data' and 'label'"):
        load_dataset("reuters10k", data_dir=tmp_path / "not_a_dict")


@pytest.mark.shared_data
def test_mnist_from_official_files(shared_data):
    full = load_dataset("mnist", data_dir=shared_data)
    assert full.x.shape == (70000, 28, 28, 1) and full.x.dtype == np.float32
    assert full.x.min() == 0.0 and full.x.max() == 1.0
    np.testing.assert_array_equal(np.bincount(full.y[:60000]), MNIST_TRAIN)  # train first
    np.testing.assert_array_equal(np.bincount(full.y[60000:]), MNIST_TEST)
    # Train mean pixel 33.318 / 255 (data README).
    assert abs(full.x[:60000].mean(dtype=np.float64) * 255 - 33.318) < 0.01
    test = load_dataset("mnist_test", data_dir=shared_data)
    assert test.x.shape == (10000, 28, 28, 1)
    np.testing.assert_array_equal(np.bincount(test.y), MNIST_TEST)


@pytest.mark.shared_data
def test_fashion_mnist_from_official_files(shared_data):
    d = load_dataset("fashion_mnist", data_dir=shared_data)
    assert d.x.shape == (70000, 28, 28, 1)
    np.testing.assert_array_equal(np.bincount(d.y[:60000]), [6000] * 10)
    assert abs(d.x[:60000].mean(dtype=np.float64) * 255 - 72.940) < 0.01


def test_missing_benchmark_fails_fast_with_instructions(tmp_path):
    """No local files, no network: an error naming each file within seconds (not ~205 s)."""
    code = (
        "import time; t=time.time()\n"
        "from tfdeepclust.data import load_dataset, DataNotFoundError\n"
        "try:\n    load_dataset('fashion_mnist')\n"
        "except DataNotFoundError as e:\n    print('ERR', e)\n"
        "print('ELAPSED', time.time()-t)\n"
    )
    env = dict(os.environ, TFDEEPCLUST_TFDS_DIR=str(tmp_path / "tfds"))
    env.pop("TFDEEPCLUST_DATA_DIR", None)
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    ).stdout
    assert time.time() - t0 < 30  # includes the TF import of a fresh interpreter
    assert "ERR" in out, out
    elapsed = float(out.split("ELAPSED")[1])
    assert elapsed < 10
    assert "train-images-idx3-ubyte.gz" in out and "--data-dir" in out
    assert "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84" in out


def test_missing_benchmark_in_process(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDEEPCLUST_TFDS_DIR", str(tmp_path))
    monkeypatch.delenv("TFDEEPCLUST_DATA_DIR", raising=False)
    t0 = time.time()
    with pytest.raises(DataNotFoundError, match="cifar-10-binary.tar.gz"):
        load_dataset("cifar10")
    assert time.time() - t0 < 10


def test_corrupted_official_file_is_rejected(tmp_path, shared_data):
    manual = tmp_path / "raw" / "mnist"
    manual.mkdir(parents=True)
    for f in (shared_data / "mnist").glob("*.gz"):
        (manual / f.name).write_bytes(f.read_bytes())
    bad = manual / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-10])  # truncated
    with pytest.raises(DataError, match="checksum"):
        load_dataset("mnist_test", data_dir=tmp_path / "raw", tfds_dir=tmp_path / "tfds")


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(DataError) as e:
        load_dataset("mnits")
    for name in dataset_names():
        assert name in str(e.value)


def test_missing_data_dir(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("mnist", data_dir=tmp_path / "nope")


def test_npz_user_data(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.random((40, 8, 8)) * 255).astype(np.uint8)
    np.savez(tmp_path / "mine.npz", x=x, y=np.arange(40) % 4)
    d = load_dataset(f"npz:{tmp_path / 'mine.npz'}")
    assert d.x.shape == (40, 8, 8, 1) and d.x.max() <= 1.0 and d.n_clusters == 4
    np.savez(tmp_path / "nolabels.npz", x=rng.random((30, 5)))
    with pytest.raises(DataError, match="--n-clusters"):
        load_dataset(f"npz:{tmp_path / 'nolabels.npz'}")
    d = load_dataset(f"npz:{tmp_path / 'nolabels.npz'}", n_clusters=3)
    assert d.y is None and d.x.shape == (30, 5)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.full((10, 4), np.nan)}, "NaN"),
        ({"x": np.where(np.eye(10, 4) > 0, np.inf, 1.0)}, "4 samples contain NaN or inf"),
        ({"x": np.ones((10, 4)), "y": np.arange(9)}, "9 labels for 10 samples"),
        ({"x": np.ones((10, 2, 2, 2, 2))}, "expected"),
        ({"z": np.ones((10, 4))}, "no 'x'"),
    ],
)
def test_bad_npz_is_rejected(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=message):
        load_dataset(f"npz:{tmp_path / 'bad.npz'}", n_clusters=2)


def test_a_file_that_is_not_an_npz_archive_is_named_as_such(tmp_path):
    (tmp_path / "text.npz").write_text("hello\n")
    with pytest.raises(DataError, match="is not an .npz archive"):
        load_dataset(f"npz:{tmp_path / 'text.npz'}", n_clusters=2)
    with open(tmp_path / "single.npz", "wb") as f:
        np.save(f, np.ones((10, 4)))
    with pytest.raises(DataError, match=r"single .npy array \(np.save\)"):
        load_dataset(f"npz:{tmp_path / 'single.npz'}", n_clusters=2)
    np.savez(tmp_path / "obj.npz", x=np.array([1, "a"], dtype=object))
    with pytest.raises(DataError, match="object arrays"):
        load_dataset(f"npz:{tmp_path / 'obj.npz'}", n_clusters=2)


@pytest.mark.parametrize(
    "low, high, ok",
    [
        (0.0, 1.0, True),
        (0.0, 255.0, True),
        (-5.0, -4.0, False),
        (-0.5, 0.5, False),
        (3e3, 1e9, False),
        (1.0, 300.0, False),
    ],
)
def test_the_image_value_range_rule_is_the_same_below_0_and_above_255(tmp_path, low, high, ok):
    x = np.linspace(low, high, 10 * 8 * 8, dtype=np.float32).reshape(10, 8, 8)
    np.savez(tmp_path / "img.npz", x=x)
    if ok:
        d = load_dataset(f"npz:{tmp_path / 'img.npz'}", n_clusters=2)
        assert d.x.min() >= 0.0 and d.x.max() <= 1.0
    else:
        with pytest.raises(DataError, match="expected \\[0, 1\\] or \\[0, 255\\]"):
            load_dataset(f"npz:{tmp_path / 'img.npz'}", n_clusters=2)


def test_truncated_npz(tmp_path):
    np.savez(tmp_path / "ok.npz", x=np.ones((100, 10)))
    data = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated|corrupted"):
        load_dataset(f"npz:{tmp_path / 'cut.npz'}", n_clusters=2)


def test_fewer_samples_than_clusters_and_k_below_two(tmp_path):
    np.savez(tmp_path / "tiny.npz", x=np.random.rand(3, 4))
    with pytest.raises(DataError, match="more samples than clusters"):
        load_dataset(f"npz:{tmp_path / 'tiny.npz'}", n_clusters=5)
    with pytest.raises(DataError, match="at least 2"):
        load_dataset(f"npz:{tmp_path / 'tiny.npz'}", n_clusters=1)


def _write_png(path: Path, size, value, mode="L"):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def test_image_folder_with_labels(tmp_path):
    for cls, v in (("cats", 10), ("dogs", 200)):
        for i in range(3):
            _write_png(tmp_path / cls / f"{i}.png", (12, 10), v)
    d = load_dataset(f"dir:{tmp_path}")
    assert d.x.shape == (6, 10, 12, 1) and d.n_clusters == 2
    assert d.info["class_names"] == ["cats", "dogs"]
    np.testing.assert_array_equal(d.y, [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(d.x[0].max(), 10 / 255, rtol=1e-6)


def test_image_folder_mixed_sizes_need_target_size(tmp_path):
    _write_png(tmp_path / "a.png", (8, 8), 1)
    _write_png(tmp_path / "b.png", (9, 7), 1)
    _write_png(tmp_path / "c.png", (8, 8), 1, mode="RGB")
    with pytest.raises(DataError, match="--image-size"):
        load_dataset(f"dir:{tmp_path}", n_clusters=2)
    d = load_dataset(f"dir:{tmp_path}", n_clusters=2, image_size=(6, 5))
    assert d.x.shape == (3, 6, 5, 3) and d.y is None


def test_image_folder_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty"):
        load_dataset(f"dir:{tmp_path / 'empty'}", n_clusters=2)
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt" / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="notes.txt"):
        load_dataset(f"dir:{tmp_path / 'txt'}", n_clusters=2)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="not a readable image"):
        load_dataset(f"dir:{tmp_path / 'broken'}", n_clusters=2)


def test_csv_user_data(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("a,b,kind\n1,2,x\n3,4,y\n5,6,x\n7,8.5,y\n")
    d = load_dataset(f"csv:{p}", label_column="kind")
    np.testing.assert_allclose(d.x, [[1, 2], [3, 4], [5, 6], [7, 8.5]])
    np.testing.assert_array_equal(d.y, [0, 1, 0, 1])
    with pytest.raises(DataError, match="column 'kind' is not numeric"):
        load_dataset(f"csv:{p}", n_clusters=2)
    p2 = tmp_path / "noheader.csv"
    p2.write_text("1,2\n3,4\n5,6\n")
    assert load_dataset(f"csv:{p2}", n_clusters=2).x.shape == (3, 2)
