"""Atomic writes: the destination is either the old file or the whole new one, never a part."""

import os

import numpy as np
import pytest

from tfdeepclust.atomic import atomic_save_npy, atomic_write_json, atomic_write_text


def test_write_replace_and_refuse(tmp_path):
    path = tmp_path / "sub" / "r.json"
    atomic_write_json(path, {"acc": np.float32(0.5), "sizes": np.arange(3)})
    assert path.read_text() == '{\n  "acc": 0.5,\n  "sizes": [\n    0,\n    1,\n    2\n  ]\n}\n'
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    with pytest.raises(FileExistsError, match="already exists"):
        atomic_write_text(path, "other", overwrite=False)
    assert path.read_text() == "new"
    assert sorted(p.name for p in path.parent.iterdir()) == ["r.json"]  # no temp files left


def test_a_failed_rename_keeps_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "p.npy"
    atomic_save_npy(path, np.ones(3))

    def fail(*_):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_save_npy(path, np.zeros(4))
    np.testing.assert_array_equal(np.load(path), np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["p.npy"]


def test_figures_are_written_whole(tmp_path):
    from tfdeepclust.training.diagnostics import plot_diagnostics

    history = [
        {"iteration": i, "fr": 0.9 - 0.1 * i, "fd": None if i == 0 else -0.2} for i in range(4)
    ]
    path = plot_diagnostics(history, tmp_path / "fr_fd.png", "FR / FD")
    assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["fr_fd.png"]
