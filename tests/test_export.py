"""Export contract: signatures, fresh-process reload, PNG path, versions, atomicity, .keras."""

import io
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from tfdeepclust.export import export_saved_model, next_version, read_metadata
from tfdeepclust.methods.asc2d import ASC2D

REPO = Path(__file__).resolve().parents[1]


def _tiny_asc2d(data):
    model = ASC2D(data.x.shape[1:], 10, filters=(8, 16, 16), disc_hidden=(32,))
    model.compile()
    model.init_centroids(data.x, seed=0, n_init=2)
    model.set_cluster_fractions(model.soft_assign(data.x))
    return model


def _tiny_adec(data):
    from tfdeepclust.methods.adec import ADEC

    model = ADEC(data.x.shape[1:], 10, hidden=(32, 32, 64), disc_hidden=(16,))
    model.compile()
    model.init_centroids(data.x, seed=0, n_init=2)
    return model


def _tiny_dfvc(data):
    from tfdeepclust.methods.dfvc import DFVC

    model = DFVC(
        data.x.shape[1:],
        10,
        filters=(8, 8, 16, 16),
        fc_units=16,
        critic_hidden=(8,),
        latent_dim=8,
        subheads=3,
    )
    model.compile()
    model.clustering.record(np.array([0.0, 1.0, 0.0]))  # the export must read sub-head 1
    return model


# Every method joins the export contract here.
TINY_MODELS = {"asc2d": _tiny_asc2d, "adec": _tiny_adec, "dfvc": _tiny_dfvc}


@pytest.fixture(scope="module", params=sorted(TINY_MODELS))
def trained(request, usps):
    """A small model of each method with its clustering state set (no long training)."""
    data = usps.subset(300, seed=1)
    return TINY_MODELS[request.param](data), data


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    model, data = trained
    root = tmp_path_factory.mktemp("models")
    path = export_saved_model(model, root, "asc2d_test", metadata={"dataset": "usps"})
    return path, root


def test_version_layout_and_metadata(exported, trained):
    path, root = exported
    assert path == root / "asc2d_test" / "1" and (path / "saved_model.pb").is_file()
    meta = read_metadata(path)
    assert meta["method"] == trained[0].method_name and meta["n_clusters"] == 10
    assert meta["input_shape"] == [16, 16, 1] and meta["dataset"] == "usps"
    assert meta["signatures"] == ["serving_default", "embed", "predict_images"]
    assert next_version(root / "asc2d_test") == 2


def test_fresh_process_matches_model_predict(exported, trained, tmp_path):
    path, _ = exported
    model, data = trained
    np.save(tmp_path / "x.npy", data.x)
    code = (
        "import sys, numpy as np, tensorflow as tf\n"
        "m = tf.saved_model.load(sys.argv[1])\n"
        "x = tf.constant(np.load(sys.argv[2]))\n"
        "o = m.signatures['serving_default'](x=x)\n"
        "e = m.signatures['embed'](x=x)\n"
        "np.savez(sys.argv[3], l=o['cluster_labels'].numpy(), p=o['probabilities'].numpy(),"
        " e=e['embedding'].numpy())\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(path), str(tmp_path / "x.npy"), str(tmp_path / "o.npz")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    out = np.load(tmp_path / "o.npz")
    ref = model.infer(data.x)
    assert out["l"].dtype == np.int32
    np.testing.assert_array_equal(out["l"], ref["labels"])
    assert np.abs(out["p"] - ref["probabilities"]).max() < 1e-5
    assert np.abs(out["e"] - ref["embedding"]).max() < 1e-5


@pytest.mark.parametrize("onednn", ["0", "1"])
def test_a_malformed_request_fails_alone(exported, tmp_path, onednn):
    """Wrong rank or shape is an error for that request, never a process abort (oneDNN's
    convolution aborts on a rank-2 tensor), and an empty batch gets empty outputs (oneDNN's
    fused convolution fails on it). Run in a fresh process so an abort is seen as such; oneDNN
    on is TensorFlow's default on x86-64."""
    import os

    path, _ = exported
    code = (
        "import sys, tensorflow as tf\n"
        "sigs = tf.saved_model.load(sys.argv[1]).signatures\n"
        "bad = [tf.zeros((1, 5)), tf.zeros((2, 16, 16)), tf.zeros((1, 16, 15, 1)),\n"
        "       tf.zeros((1, 16, 16, 3)), tf.zeros((3,)), tf.zeros((0, 8, 8, 1))]\n"
        "for name in ('serving_default', 'embed'):\n"
        "    for x in bad:\n"
        "        try:\n"
        "            sigs[name](x=x)\n"
        "        except tf.errors.InvalidArgumentError as e:\n"
        "            assert 'expected shape [?,16,16,1]' in str(e), str(e)\n"
        "        else:\n"
        "            raise SystemExit(f'{name} accepted {x.shape}')\n"
        "    out = sigs[name](x=tf.zeros((0, 16, 16, 1)))\n"  # an empty batch is valid
        "    assert all(v.shape[0] == 0 for v in out.values()), out\n"
        "out = sigs['predict_images'](images=tf.zeros((0,), tf.string))\n"
        "assert out['probabilities'].shape == (0, 10), out\n"
        "print('ok')\n"
    )
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=onednn, TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "-c", code, str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    assert proc.stdout.strip().endswith("ok")


def test_signature_specs(exported):
    """The tensor names, dtypes and shapes TF Serving clients rely on, for every method."""
    import tensorflow as tf

    path, _ = exported
    sigs = tf.saved_model.load(str(path)).signatures
    assert set(sigs) == {"serving_default", "embed", "predict_images"}
    x = sigs["serving_default"].structured_input_signature[1]["x"]
    assert x.dtype == tf.float32 and x.shape.as_list() == [None, 16, 16, 1]
    out = sigs["serving_default"].structured_outputs
    assert out["cluster_labels"].dtype == tf.int32
    assert out["cluster_labels"].shape.as_list() == [None]
    assert out["probabilities"].dtype == tf.float32
    assert out["probabilities"].shape.as_list() == [None, 10]
    images = sigs["predict_images"].structured_input_signature[1]["images"]
    assert images.dtype == tf.string and images.shape.as_list() == [None]


def test_saved_model_cli_lists_the_signatures_and_runs(exported, trained, tmp_path):
    """TF's own ``saved_model_cli`` (what Serving users inspect a model with). The signatures are
    shared code, so one method runs it; ``test_signature_specs`` covers every method."""
    if trained[0].method_name != "asc2d":
        pytest.skip("saved_model_cli runs on the asc2d export only (shared signature code)")
    path, _ = exported
    cli = Path(sys.executable).parent / "saved_model_cli"
    show = subprocess.run(
        [str(cli), "show", "--dir", str(path), "--all"], capture_output=True, text=True, timeout=300
    )
    assert show.returncode == 0, show.stderr[-2000:]
    text = show.stdout
    for sig in ("serving_default", "embed", "predict_images"):
        assert f"signature_def['{sig}']" in text
    assert (
        "inputs['x'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 16, 16, 1)" in text
    )
    assert (
        "outputs['cluster_labels'] tensor_info:\n        dtype: DT_INT32\n        shape: (-1)"
        in text
    )
    assert (
        "outputs['probabilities'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 10)"
        in text
    )
    assert "inputs['images'] tensor_info:\n        dtype: DT_STRING\n        shape: (-1)" in text
    np.save(tmp_path / "batch.npy", np.zeros((3, 16, 16, 1), np.float32))
    run = subprocess.run(
        [
            str(cli),
            "run",
            "--dir",
            str(path),
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
            "--inputs",
            f"x={tmp_path / 'batch.npy'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "cluster_labels" in run.stdout and "probabilities" in run.stdout


def _png(img01: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.round(img01[..., 0] * 255).astype(np.uint8), mode="L").save(buf, "PNG")
    return buf.getvalue()


def test_predict_images_matches_the_float_path(exported, trained):
    import tensorflow as tf

    path, _ = exported
    _, data = trained
    x = data.x[:40]
    quantised = (np.round(x * 255) / 255).astype(np.float32)  # what an 8-bit PNG holds
    m = tf.saved_model.load(str(path))
    by_png = m.signatures["predict_images"](images=tf.constant([_png(i) for i in x]))
    by_float = m.signatures["serving_default"](x=tf.constant(quantised))
    np.testing.assert_array_equal(by_png["cluster_labels"], by_float["cluster_labels"])
    assert np.abs(by_png["probabilities"].numpy() - by_float["probabilities"].numpy()).max() < 1e-5


def test_input_scale_applies_inside_the_model(trained, tmp_path):
    import tensorflow as tf

    model, data = trained
    path = export_saved_model(model, tmp_path, "scaled", input_scale=1 / 255)
    m = tf.saved_model.load(str(path))
    raw = m.signatures["serving_default"](x=tf.constant(data.x[:20] * 255))
    np.testing.assert_array_equal(raw["cluster_labels"], model.predict(data.x[:20]))
    assert read_metadata(path)["input_units"] == "0..255 (8-bit)"


def test_versions_increment_and_interrupted_export_leaves_nothing(trained, tmp_path, monkeypatch):
    model, _ = trained
    assert export_saved_model(model, tmp_path, "m").name == "1"
    assert export_saved_model(model, tmp_path, "m").name == "2"
    with pytest.raises(FileExistsError):
        export_saved_model(model, tmp_path, "m", version=2)

    def boom(self, path, **kwargs):
        Path(path, "saved_model.pb").write_bytes(b"partial")
        raise RuntimeError("killed mid-write")

    # ExportArchive() is a factory: patch the class it actually returns.
    monkeypatch.setattr(type(keras.export.ExportArchive()), "write_out", boom)
    with pytest.raises(RuntimeError):
        export_saved_model(model, tmp_path, "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1", "2"]  # no partial, no tmp


def test_keras_native_roundtrip(trained, tmp_path):
    model, data = trained
    path = tmp_path / "asc2d.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(data.x), model.predict(data.x))
    np.testing.assert_allclose(loaded.predict_proba(data.x), model.predict_proba(data.x), atol=1e-6)


def test_cli_info_and_predict(exported, trained, tmp_path, capsys):
    """``python -m tfdeepclust`` info / predict. The commands run in process (each subprocess
    would import TensorFlow again); one real subprocess checks the module entry point."""
    from helpers import run_python

    from tfdeepclust.__main__ import main

    path, root = exported
    model, data = trained

    def cli(*args) -> tuple[int, str, str]:
        rc = main([str(a) for a in args])
        out = capsys.readouterr()
        return rc, out.out, out.err

    rc, out, _ = cli("info", "--model", root / "asc2d_test")
    assert rc == 0
    assert "signature predict_images" in out
    assert f'"method": "{model.method_name}"' in out
    if model.method_name == "asc2d":
        proc = run_python("-m", "tfdeepclust", "info", "--model", path, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "signature predict_images" in proc.stdout
    np.savez(tmp_path / "new.npz", x=data.x[:25, ..., 0])  # [N, H, W]: channel axis added
    out = tmp_path / "pred.csv"
    rc, _, err = cli(
        "predict",
        "--model",
        path,
        "--input",
        f"npz:{tmp_path / 'new.npz'}",
        "--output",
        out,
        "--probabilities",
        tmp_path / "p.npy",
    )
    assert rc == 0, err[-2000:]
    rows = out.read_text().splitlines()
    assert rows[0] == "input,cluster" and len(rows) == 26
    np.testing.assert_array_equal(
        [int(r.split(",")[1]) for r in rows[1:]], model.predict(data.x[:25])
    )
    assert np.load(tmp_path / "p.npy").shape == (25, 10)
    if model.method_name == "asc2d":  # wrong channel count: one clear message, exit code 2
        np.savez(tmp_path / "rgb.npz", x=np.repeat(data.x[:5], 3, axis=-1))
        rc, _, err = cli("predict", "--model", path, "--input", f"npz:{tmp_path / 'rgb.npz'}")
        assert rc == 2
        assert "shape (16, 16, 3), the model expects (16, 16, 1)" in err
    # Image folder input goes through predict_images.
    (tmp_path / "imgs").mkdir()
    for i in range(5):
        (tmp_path / "imgs" / f"{i}.png").write_bytes(_png(data.x[i]))
    rc, _, err = cli(
        "predict",
        "--model",
        path,
        "--input",
        f"dir:{tmp_path / 'imgs'}",
        "--output",
        tmp_path / "img.csv",
    )
    assert rc == 0, err[-2000:]
    assert (tmp_path / "img.csv").read_text().splitlines()[1].startswith("0.png,")
    # Existing outputs are not overwritten; a folder that is not a model is a clear error.
    rc, _, err = cli(
        "predict", "--model", path, "--input", f"npz:{tmp_path / 'new.npz'}", "--output", out
    )
    assert rc == 2 and "--overwrite" in err
    # ... the probabilities file neither: refused before any work, the CSV left alone.
    p_before, new_out = (tmp_path / "p.npy").read_bytes(), tmp_path / "other.csv"
    args = ["--input", f"npz:{tmp_path / 'new.npz'}", "--probabilities", tmp_path / "p.npy"]
    rc, _, err = cli("predict", "--model", path, *args, "--output", new_out)
    assert rc == 2 and "--probabilities" in err and "--overwrite" in err
    assert (tmp_path / "p.npy").read_bytes() == p_before and not new_out.exists()
    rc, _, err = cli("predict", "--model", path, *args, "--output", new_out, "--overwrite")
    assert rc == 0 and np.load(tmp_path / "p.npy").shape == (25, 10)
    rc, _, err = cli("info", "--model", tmp_path)
    assert rc == 2 and "not a SavedModel folder" in err
    json.dumps(read_metadata(path))  # metadata stays valid JSON
