"""Pictures of a clustering: what each cluster holds, the embedding's map, the confusion matrix.

Without labels there is no ACC; the first thing anyone does with clusters of their own data is
look at them. Every run writes these next to its results (``--no-pictures`` skips them), and
``python -m tfdeepclust report RUN_DIR`` draws them again from a finished run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MONTAGE = "clusters.png"
EMBEDDING_MAP = "embedding_map.png"
CONFUSION = "confusion_matrix.png"
# What the run keeps for the pictures (and for any analysis): per-sample arrays.
OUTPUTS = "outputs.npz"

# Members shown per cluster: this many of the most and of the least confident.
MEMBERS_SHOWN = 8
# The embedding map projects at most this many samples (a fixed random subset beyond).
MAP_MAX_POINTS = 5000


def confidence(
    labels: np.ndarray, probabilities: np.ndarray | None, embedding: np.ndarray | None
) -> np.ndarray:
    """How firmly each sample belongs to its cluster: its assignment probability, or, for
    methods without one, minus its distance to its cluster's mean embedding."""
    if probabilities is not None:
        return probabilities[np.arange(len(labels)), labels]
    if embedding is None:
        return np.zeros(len(labels))
    out = np.empty(len(labels))
    for k in np.unique(labels):
        members = labels == k
        out[members] = -np.linalg.norm(embedding[members] - embedding[members].mean(0), axis=1)
    return out


def ranked_members(
    labels: np.ndarray, conf: np.ndarray, k: int, n: int = MEMBERS_SHOWN
) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices of the ``n`` most and the ``n`` least confident members of cluster ``k``
    (most confident first in both; the two never overlap)."""
    members = np.flatnonzero(labels == k)
    order = members[np.argsort(-conf[members], kind="stable")]
    top = order[:n]
    bottom = order[max(len(top), len(order) - n) :]
    return top, bottom


def cluster_montage(
    x: np.ndarray,
    labels: np.ndarray,
    conf: np.ndarray,
    n_clusters: int,
    path: str | Path,
    title: str = "",
) -> Path:
    """One row per cluster: its size, its most confident members, then its least confident.

    Args:
        x: Images ``[N, H, W, C]`` (C = 1 or 3), any value range (each is scaled for display).
        labels: Cluster of every sample.
        conf: Confidence of every sample (see :func:`confidence`).
        n_clusters: K (empty clusters get an empty row).
        path: PNG to write.
        title: Figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = MEMBERS_SHOWN
    cols = 2 * n + 1  # a blank column between the most and the least confident
    fig, axes = plt.subplots(
        n_clusters, cols, figsize=(cols * 0.6 + 1.6, n_clusters * 0.62 + 0.8), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    sizes = np.bincount(labels, minlength=n_clusters)
    for k in range(n_clusters):
        top, bottom = ranked_members(labels, conf, k, n)
        axes[k, 0].text(
            -0.3,
            0.5,
            f"cluster {k}\n{sizes[k]} ({sizes[k] / len(labels):.1%})",
            transform=axes[k, 0].transAxes,
            ha="right",
            va="center",
            fontsize=7,
        )
        for j, i in enumerate(top):
            _show(axes[k, j], x[i])
        for j, i in enumerate(bottom):
            _show(axes[k, n + 1 + j], x[i])
    axes[0, 0].set_title("most confident →", fontsize=7, loc="left")
    axes[0, n + 1].set_title("least confident →", fontsize=7, loc="left")
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.14, right=0.99, top=1 - 0.5 / fig.get_figheight(), wspace=0.05)
    return _save(fig, path)


def embedding_map(
    embedding: np.ndarray,
    labels: np.ndarray,
    path: str | Path,
    y: np.ndarray | None = None,
    seed: int = 0,
    title: str = "",
) -> Path:
    """The embedding projected to 2-D with UMAP, coloured by cluster (and by label beside it
    when labels exist). Beyond :data:`MAP_MAX_POINTS` samples a fixed random subset is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx = np.arange(len(labels))
    if len(idx) > MAP_MAX_POINTS:
        idx = np.sort(np.random.default_rng(seed).choice(idx, MAP_MAX_POINTS, replace=False))
    points = project_2d(embedding[idx], seed)
    panels = [("cluster", labels[idx])] + ([("label", y[idx])] if y is not None else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 5), squeeze=False)
    for ax, (name, colour) in zip(axes[0], panels, strict=True):
        ax.scatter(points[:, 0], points[:, 1], c=colour, cmap="tab20", s=2, linewidths=0)
        ax.set_title(f"coloured by {name}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    shown = f"{len(idx)} of {len(labels)} samples" if len(idx) < len(labels) else "all samples"
    fig.suptitle(f"{title} — UMAP of the embedding, {shown}".strip(" —"), fontsize=9)
    return _save(fig, path)


def project_2d(embedding: np.ndarray, seed: int) -> np.ndarray:
    """UMAP to 2-D (an embedding already 2-D is shown as it is)."""
    if embedding.shape[1] <= 2:
        return np.pad(embedding, ((0, 0), (0, 2 - embedding.shape[1])))
    import umap

    # 200 epochs: the layout has settled; UMAP spends 500 on inputs this small.
    reducer = umap.UMAP(n_components=2, random_state=seed, n_jobs=1, n_epochs=200)
    return reducer.fit_transform(embedding.astype(np.float32))


def confusion_matrix_plot(
    y: np.ndarray, labels: np.ndarray, n_clusters: int, path: str | Path, title: str = ""
) -> Path:
    """Labels (rows) against clusters (columns), the clusters ordered by the ACC matching so
    that matched pairs sit on the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.optimize import linear_sum_assignment

    # Any label values (and as many classes as there are) against clusters 0..K-1.
    classes, row_of = np.unique(y, return_inverse=True)
    counts = np.zeros((len(classes), n_clusters), np.int64)
    np.add.at(counts, (row_of, labels), 1)
    rows, cols = linear_sum_assignment(-counts)
    order = [*cols[np.argsort(rows)], *sorted(set(range(counts.shape[1])) - set(cols))]
    counts = counts[:, order]
    fig, ax = plt.subplots(figsize=(1.2 + 0.45 * len(order), 1.0 + 0.45 * len(classes)))
    ax.imshow(counts, cmap="Blues")
    for (i, j), v in np.ndenumerate(counts):
        ax.text(
            j,
            i,
            str(v),
            ha="center",
            va="center",
            fontsize=6,
            color="white" if v > counts.max() / 2 else "black",
        )
    ax.set_xticks(range(len(order)), [str(c) for c in order], fontsize=7)
    ax.set_yticks(range(len(classes)), [str(c) for c in classes], fontsize=7)
    ax.set_xlabel("cluster")
    ax.set_ylabel("label")
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def draw_all(
    out_dir: str | Path,
    x: np.ndarray,
    labels: np.ndarray,
    n_clusters: int,
    probabilities: np.ndarray | None = None,
    embedding: np.ndarray | None = None,
    y: np.ndarray | None = None,
    seed: int = 0,
    title: str = "",
) -> dict[str, str]:
    """Writes every picture that applies to ``out_dir``; returns ``{name: path}``.

    The montage needs images (``x`` of rank 4), the map an embedding, the confusion matrix
    labels.
    """
    out_dir = Path(out_dir)
    written: dict[str, str] = {}
    if x is not None and x.ndim == 4:
        conf = confidence(labels, probabilities, embedding)
        written["clusters"] = str(
            cluster_montage(x, labels, conf, n_clusters, out_dir / MONTAGE, title)
        )
    if embedding is not None:
        written["embedding_map"] = str(
            embedding_map(embedding, labels, out_dir / EMBEDDING_MAP, y, seed, title)
        )
    if y is not None:
        written["confusion_matrix"] = str(
            confusion_matrix_plot(y, labels, n_clusters, out_dir / CONFUSION, title)
        )
    return written


def save_outputs(
    path: str | Path,
    labels: np.ndarray,
    probabilities: np.ndarray | None,
    embedding: np.ndarray | None,
) -> Path:
    """The per-sample outputs (labels, probabilities, embedding) as an ``.npz``, atomically."""
    from tfdeepclust.atomic import atomic_save_npz

    arrays = {"labels": np.asarray(labels, np.int64)}
    if probabilities is not None:
        arrays["probabilities"] = np.asarray(probabilities, np.float32)
    if embedding is not None:
        arrays["embedding"] = np.asarray(embedding, np.float32)
    return atomic_save_npz(path, **arrays)


def load_outputs(path: str | Path) -> dict[str, np.ndarray]:
    """What :func:`save_outputs` wrote: ``labels`` and, when the method had them,
    ``probabilities`` and ``embedding``."""
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def redraw_run(
    run_dir: str | Path,
    results_name: str = "results.json",
    dataset: str | None = None,
    data_dir: str | None = None,
) -> dict[str, str]:
    """Draws a finished run's pictures again from its folder (``python -m tfdeepclust report``).

    The data is loaded as the run loaded it (its recorded data set, subset and seed) unless
    ``dataset`` names it (in-memory data of the API has no name to load it by); it must be the
    data the run trained on (same sha256).

    Raises:
        FileNotFoundError: The run folder lacks the results or the outputs file.
        DataError: The data cannot be loaded or is not the run's.
    """
    import json

    from tfdeepclust.data.dataset import DataError
    from tfdeepclust.run_report import run_title

    run_dir = Path(run_dir)
    results_path = run_dir / results_name
    if not results_path.is_file():
        raise FileNotFoundError(f"{results_path} does not exist: is {run_dir} a run folder?")
    results = json.loads(results_path.read_text())
    suffix = results_path.stem.removeprefix("results")
    outputs_path = run_dir / f"outputs{suffix}.npz"
    if not outputs_path.is_file():
        raise FileNotFoundError(
            f"{outputs_path} does not exist (runs before per-sample outputs were saved have "
            "none): rerun the training command to get pictures."
        )
    import dataclasses

    from tfdeepclust.api import get_recipe
    from tfdeepclust.results import configs_from_results
    from tfdeepclust.runner import prepare_data

    common, _ = configs_from_results(results)
    if dataset is not None or data_dir is not None:
        common = dataclasses.replace(
            common, dataset=dataset or common.dataset, data_dir=data_dir or common.data_dir
        )
    try:  # the run's own loading path: same data set, subset and seed
        data, _ = prepare_data(get_recipe(results["method"]), common)
    except DataError as e:
        raise DataError(
            f"cannot load the run's data {common.dataset!r} ({e}). Give it with --data (data "
            "trained from memory: save it with np.savez(path, x=..., y=...) and pass npz:PATH)."
        ) from None
    if data.sha256 != results["data_sha256"]:
        raise DataError(
            f"{common.dataset} is not the data this run trained on (its sha256 differs)."
        )
    out = load_outputs(outputs_path)
    folder = run_dir if not suffix else run_dir / f"pictures{suffix}"
    return draw_all(
        folder,
        data.x,
        out["labels"],
        data.n_clusters,
        out.get("probabilities"),
        out.get("embedding"),
        data.y,
        seed=results["seed"],
        title=f"{run_title(results)} on {results['dataset']} (seed {results['seed']})",
    )


def _show(ax, image: np.ndarray) -> None:
    img = image.astype(np.float32)
    lo, hi = float(img.min()), float(img.max())
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    if img.shape[-1] == 1:
        ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(img[..., :3])


def _save(fig, path: str | Path) -> Path:
    import matplotlib.pyplot as plt

    from tfdeepclust.atomic import atomic_save_figure

    try:
        return atomic_save_figure(fig, path, dpi=100)
    finally:
        plt.close(fig)


__all__ = [
    "CONFUSION",
    "EMBEDDING_MAP",
    "MONTAGE",
    "OUTPUTS",
    "cluster_montage",
    "confidence",
    "confusion_matrix_plot",
    "draw_all",
    "embedding_map",
    "load_outputs",
    "ranked_members",
    "redraw_run",
    "save_outputs",
]
