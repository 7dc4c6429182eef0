"""benchmarks/dfvc_subheads.py: every sub-head of a finished run, scored against the labels."""

import keras
import numpy as np
import pytest
from helpers import load_benchmark

from tfdeepclust.methods.dfvc import DFVC
from tfdeepclust.training.checkpointing import ClusteringCheckpoint


@pytest.fixture(scope="module")
def subheads():
    return load_benchmark("dfvc_subheads")


def _run_folder(tmp_path, n_heads, score):
    """A run folder as training leaves it: a checkpoint, outputs.npz and labels.csv."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((40, 16, 16, 1)).astype("float32")
    model = DFVC(
        (16, 16, 1), 4, filters=(8, 8, 16, 16), fc_units=16, critic_hidden=(8,), latent_dim=8,
        subheads=n_heads,
    )  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.attach_targets(len(x))
    if score is not None:
        model.clustering.record(np.array(score) / 0.02)  # one record with decay 0.98
    ClusteringCheckpoint(tmp_path / "checkpoints", model).save([])
    out = model.infer(x)
    np.savez(tmp_path / "outputs.npz", labels=out["labels"], embedding=out["embedding"])
    _, mu, _ = model.feature_encoder(x)
    heads = np.asarray(model.clustering.all_heads(mu)).argmax(-1) if n_heads > 1 else None
    y = heads[:, 1] if heads is not None else out["labels"]  # "truth" = sub-head 1's partition
    rows = [f"{i},{c},{t}" for i, (c, t) in enumerate(zip(out["labels"], y, strict=True))]
    (tmp_path / "results.json").write_text('{"dataset": "toy", "seed": 0}')
    (tmp_path / "labels.csv").write_text("sample_index,cluster,label\n" + "\n".join(rows) + "\n")
    return heads


def test_every_sub_head_is_scored_and_the_read_one_named(subheads, tmp_path):
    heads = _run_folder(tmp_path, 3, [0.1, 0.3, 0.2])
    row = subheads.evaluate(tmp_path)
    assert row["read"] == 1 and row["read_acc"] == 1.0 and row["read_is_best"]
    assert (row["dataset"], row["seed"]) == ("toy", 0)
    assert [round(h["score"], 5) for h in row["heads"]] == [0.1, 0.3, 0.2]
    assert [h["acc"] for h in row["heads"]][1] == 1.0
    # The other sub-heads are their own partitions, scored as such.
    for h in (0, 2):
        agree = subheads.supervised_metrics(heads[:, 1], heads[:, h])["acc"]
        assert row["heads"][h]["acc"] == pytest.approx(agree)


def test_a_run_without_sub_heads_is_refused(subheads, tmp_path):
    _run_folder(tmp_path, 1, None)
    with pytest.raises(ValueError, match="without sub-heads"):
        subheads.evaluate(tmp_path)
