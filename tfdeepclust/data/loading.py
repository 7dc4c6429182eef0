"""One entry point for every data set: :func:`load_dataset`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tfdeepclust.data.checksums import sha256_arrays
from tfdeepclust.data.dataset import ClusteringData, DataError


@dataclass(frozen=True)
class TfdsSpec:
    """A named benchmark served by a TFDS builder."""

    tfds_name: str
    splits: tuple[str, ...]
    n_clusters: int
    label_key: str = "label"
    folder: str | None = None  # sub-folder of the data dir with the official files


TFDS_DATASETS: dict[str, TfdsSpec] = {
    "mnist": TfdsSpec("mnist", ("train", "test"), 10),
    "mnist_test": TfdsSpec("mnist", ("test",), 10),
    "fashion_mnist": TfdsSpec("fashion_mnist", ("train", "test"), 10),
    "usps": TfdsSpec("usps", ("train", "test"), 10),
    "cifar10": TfdsSpec("cifar10", ("train", "test"), 10),
    # CIFAR-100-20: the 20 super-classes are TFDS's `coarse_label`, not `label` (100 classes).
    "cifar100_20": TfdsSpec(
        "cifar100", ("train", "test"), 20, label_key="coarse_label", folder="cifar100"
    ),
    "stl10": TfdsSpec("stl10", ("train", "test"), 10),
}
TABULAR_DATASETS = ("mice_protein", "reuters10k")
USER_PREFIXES = ("npz:", "dir:", "csv:")
ROW_NORMS = ("none", "unit_l2")  # tabular row scaling (docs/methods.md §3.7)


def dataset_names() -> list[str]:
    """Names accepted by :func:`load_dataset` (plus the ``npz:``/``dir:``/``csv:`` forms)."""
    return sorted([*TFDS_DATASETS, *TABULAR_DATASETS])


def validate_data(x: np.ndarray, y: np.ndarray | None, n_clusters: int, name: str) -> None:
    """Rejects data no clustering method can train on, naming the problem and the fix."""
    if x.ndim not in (2, 4):
        raise DataError(f"{name}: data has shape {x.shape}; expected [N, D] or [N, H, W, C].")
    if n_clusters < 2:
        raise DataError(f"{name}: n_clusters={n_clusters}; clustering needs at least 2 clusters.")
    if x.shape[0] < n_clusters:
        raise DataError(
            f"{name}: {x.shape[0]} samples but {n_clusters} clusters; provide more samples than "
            "clusters or lower --n-clusters."
        )
    finite = np.isfinite(x)
    if not finite.all():
        bad = np.argwhere(~finite.reshape(len(x), -1).all(axis=1)).ravel()
        raise DataError(
            f"{name}: {len(bad)} samples contain NaN or inf (first: row {bad[0]}). Remove or "
            "impute them before clustering."
        )
    if y is not None and len(y) != len(x):
        raise DataError(
            f"{name}: {len(y)} labels for {len(x)} samples; labels must have one entry per sample."
        )


def load_dataset(
    spec: str,
    data_dir: str | os.PathLike | None = None,
    tfds_dir: str | os.PathLike | None = None,
    n_clusters: int | None = None,
    image_size: tuple[int, int] | None = None,
    label_column: str | None = None,
    row_norm: str = "none",
    include_unlabelled: bool = False,
) -> ClusteringData:
    """Loads a benchmark or the user's own data.

    Args:
        spec: A name from :func:`dataset_names`, or ``npz:PATH`` (arrays ``x``, optional ``y``),
            ``dir:PATH`` (a folder of images; sub-folder names become labels) or ``csv:PATH``
            (numeric features; ``label_column`` names an optional label column).
        data_dir: Folder with official raw files (e.g. ``../shared/data``); defaults to
            ``$TFDEEPCLUST_DATA_DIR``. Used to prepare TFDS data sets offline.
        tfds_dir: Where TFDS keeps prepared data (default ``$TFDEEPCLUST_TFDS_DIR`` or TFDS's).
        n_clusters: Number of clusters; required for unlabelled user data, otherwise the number
            of distinct labels.
        image_size: ``(H, W)`` to resize folder images to.
        label_column: Label column of a CSV.
        row_norm: ``"unit_l2"`` scales tabular rows to unit norm (ADEC's literal statement).
        include_unlabelled: For ``stl10``, also load the 100k ``unlabelled`` split into ``x_extra``.

    Returns:
        A :class:`ClusteringData`.

    Raises:
        DataError: On unknown names, unreadable or invalid data (the message says the fix).
        DataNotFoundError: When a benchmark is neither local nor downloadable (within seconds).
    """
    if row_norm not in ROW_NORMS:
        raise DataError(f"row_norm must be one of {ROW_NORMS}, got {row_norm!r}")
    info: dict = {"source": spec}
    x_extra = None
    if spec in TFDS_DATASETS:
        x, y, name, k, x_extra = _load_tfds(spec, data_dir, tfds_dir, include_unlabelled, info)
    elif spec == "mice_protein":
        from tfdeepclust.data.tabular import load_mice_protein

        x, y, extra = load_mice_protein()
        info.update(extra)
        name, k = spec, 8
    elif spec == "reuters10k":
        from tfdeepclust.data.tabular import load_reuters10k

        x, y, extra = load_reuters10k(data_dir)
        info.update(extra)
        name, k = spec, 4
    elif spec.startswith(USER_PREFIXES):
        kind, path = spec.split(":", 1)
        path = Path(path).expanduser()
        name = f"{kind}_{path.stem or path.name}"
        if kind == "npz":
            from tfdeepclust.data.user_sources import load_npz

            x, y, extra = load_npz(path)
            info.update(extra)
        elif kind == "dir":
            from tfdeepclust.data.user_sources import load_image_folder

            x, y, extra = load_image_folder(path, image_size)
            info.update(extra)
        else:
            from tfdeepclust.data.user_sources import load_csv

            x, y, extra = load_csv(path, label_column)
            info.update(extra)
        k = _cluster_count(n_clusters, y, spec, "--n-clusters K")
    else:
        raise DataError(
            f"Unknown data set {spec!r}. Valid names: {', '.join(dataset_names())}; or your own "
            "data as npz:PATH, dir:PATH or csv:PATH."
        )
    if n_clusters is not None:
        k = int(n_clusters)
    return _finish(x, y, k, name, info, row_norm, x_extra)


def from_arrays(
    x,
    y=None,
    n_clusters: int | None = None,
    name: str = "arrays",
    row_norm: str = "none",
    batched: bool | None = None,
) -> ClusteringData:
    """Wraps in-memory data for training from Python: NumPy arrays or a ``tf.data.Dataset``.

    The same rules as the ``npz:`` loader apply: ``[N, H, W]`` or ``[N, H, W, C]`` images
    (integers or 0..255 floats are scaled to [0, 1]) or ``[N, D]`` features, optional labels
    (integers, or any values such as strings, which are numbered in sorted order).

    Args:
        x: Samples, or a finite ``tf.data.Dataset`` of ``x``, ``(x, y)`` or TFDS-style dicts
            (``image`` / ``label``), batched or not. It is read into memory once: every method
            refreshes its targets on the whole data set.
        y: Labels, optional (not with a dataset that yields labels itself).
        n_clusters: Number of clusters; required without labels.
        name: Used in output file names (``runs/<method>_<name>_seed<k>``).
        row_norm: ``"unit_l2"`` scales tabular rows to unit norm.
        batched: For a dataset: whether its elements are batches (None infers it; see
            :func:`~tfdeepclust.data.user_sources.arrays_from_tf_dataset`).

    Returns:
        A :class:`ClusteringData` (with a SHA-256 of the arrays, so runs on it resume and cache
        like runs on files).

    Raises:
        DataError: On data no method can train on; the message names the fix.
    """
    from tfdeepclust.data.user_sources import arrays_from_tf_dataset, standardise_arrays

    if row_norm not in ROW_NORMS:
        raise DataError(f"row_norm must be one of {ROW_NORMS}, got {row_norm!r}")
    info: dict = {"source": "arrays"}
    if hasattr(x, "element_spec"):  # a tf.data.Dataset (checked without importing TensorFlow)
        x, ds_y = arrays_from_tf_dataset(x, batched)
        info["source"] = "tf.data"
        if ds_y is not None and y is not None:
            raise DataError(
                "the dataset yields labels and y was given too; pass one of them (y=None)."
            )
        y = ds_y if y is None else y
    x, y, extra = standardise_arrays(x, y, name)
    info.update(extra)
    k = _cluster_count(n_clusters, y, name, "n_clusters")
    return _finish(x, y, k, name, info, row_norm)


def _cluster_count(n_clusters: int | None, y, source: str, option: str) -> int:
    """``n_clusters``, else the number of label classes; unlabelled data must say it."""
    if n_clusters is None and y is None:
        raise DataError(
            f"{source}: the data has no labels, so the number of clusters is unknown; pass "
            f"{option}."
        )
    return int(n_clusters) if n_clusters is not None else int(len(np.unique(y)))


def apply_row_norm(x: np.ndarray, row_norm: str) -> np.ndarray:
    """Tabular rows as the loaders scale them (``"unit_l2"``: unit norm; ``"none"``: as given)."""
    if row_norm == "unit_l2":
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x


def to_model_units(x, info: dict) -> np.ndarray:
    """New samples as the model takes them, with the same steps the training data went through
    (``info`` is its ``ClusteringData.info``): a channel axis for ``[N, H, W]``, the image
    scaling, the tabular row norm, float32."""
    from tfdeepclust.data.user_sources import apply_input_scale

    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim == 4:
        return apply_input_scale(x, float(info.get("input_scale", 1.0)))
    return np.ascontiguousarray(apply_row_norm(x, info.get("row_norm", "none")), np.float32)


def _finish(x, y, k, name, info, row_norm, x_extra=None) -> ClusteringData:
    """The steps every source ends with: tabular row scaling, float32, validation, checksum."""
    if x.ndim == 2:  # every tabular source, benchmark or the user's, in the loader's precision
        info["row_norm"] = row_norm
        x = apply_row_norm(x, row_norm)
    x = np.ascontiguousarray(x, dtype=np.float32)
    info.setdefault("input_scale", 1.0)
    validate_data(x, y, k, name)
    return ClusteringData(x, y, k, name, sha256_arrays(x, y), info, x_extra)


def _load_tfds(spec, data_dir, tfds_dir, include_unlabelled, info):
    from tfdeepclust.data.tfds_source import load_tfds_arrays

    s = TFDS_DATASETS[spec]
    builder = None
    if s.tfds_name == "usps":
        import tensorflow_datasets as tfds

        from tfdeepclust.data.tfds_source import default_tfds_dir
        from tfdeepclust.data.usps_builder import Usps

        builder = Usps(data_dir=default_tfds_dir(tfds_dir) or tfds.core.constants.DATA_DIR)
        info["usps_version"] = "9298"
    x, y = load_tfds_arrays(
        s.tfds_name, list(s.splits), s.label_key, s.folder, data_dir, tfds_dir, builder
    )
    # uint8 images are scaled to [0, 1]; USPS is stored in [0, 1] already (never rescaled).
    divisor = 255.0 if x.dtype == np.uint8 else 1.0
    info["input_scale"] = 1.0 / divisor
    x = x.astype(np.float32) / np.float32(divisor)
    info["splits"] = list(s.splits)
    x_extra = None
    if include_unlabelled and spec == "stl10":
        xu, _ = load_tfds_arrays("stl10", ["unlabelled"], None, None, data_dir, tfds_dir)
        x_extra = xu.astype(np.float32) / np.float32(255.0)
    return x, y, spec, s.n_clusters, x_extra
