"""The path of one run, shared by every training script.

load data -> build model -> pretrain (cached) -> initialise -> cluster -> evaluate -> export
-> results JSON. Methods plug in through a *recipe* (``tfdeepclust.recipes``) that knows only its
own phases; everything else (options, seeding, metrics, export, results) lives here once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from pathlib import Path
from typing import Protocol

import keras
import tensorflow as tf

from tfdeepclust.atomic import atomic_write_json
from tfdeepclust.config import NON_RESULT_OPTIONS, CommonConfig, config_dict
from tfdeepclust.data import load_dataset, validate_data
from tfdeepclust.distribute import WorkerOutputs, make_strategy
from tfdeepclust.export import export_saved_model
from tfdeepclust.metrics import label_free_metrics, supervised_metrics
from tfdeepclust.results import git_sha
from tfdeepclust.run_report import (
    assemble_results,
    method_title,
    next_results_path,
    print_summary,
    write_labels,
    write_outputs_and_pictures,
)
from tfdeepclust.run_spec import resolve
from tfdeepclust.training.checkpointing import ClusteringCheckpoint
from tfdeepclust.training.diagnostics import plot_diagnostics
from tfdeepclust.training.pretrain import pretrain_cache_key
from tfdeepclust.training.time_limit import TimeLimit, parse_duration
from tfdeepclust.validation import check_options


class Recipe(Protocol):
    """What a method provides to :func:`run`."""

    name: str
    description: str
    config_cls: type
    # preset -> pretrain_epochs / maxiter / update_interval, or ``epochs`` / ``update_epochs``
    # (converted to iterations for the data set at hand)
    budgets: dict[str, dict[str, int]]
    # Optional ``presets``: named recipes for ``--preset`` (format: tfdeepclust.cli.build_parser).
    default_tol: float  # label-change stop; 0 disables it

    def resolve_config(self, cfg, common: CommonConfig, data):
        """Optional: fills data-dependent defaults of ``cfg`` (recorded in results)."""

    def build(self, cfg, common: CommonConfig, data): ...

    def pretrain_key(self, cfg, common: CommonConfig, data) -> dict: ...

    def pretrain(self, model, cfg, common: CommonConfig, data, cache_path, callbacks) -> dict: ...

    def initialise(self, model, cfg, common: CommonConfig, data) -> dict: ...

    def cluster(
        self, model, cfg, common: CommonConfig, data, callbacks, checkpoint=None, history=None
    ) -> dict: ...

    def finalize(self, model, cfg, common: CommonConfig, data) -> dict: ...


def run_fingerprint(method: str, data_sha256: str, common: CommonConfig, cfg) -> str:
    """A hash of everything that determines a run's result (not maxiter, paths, verbosity)."""
    settings = {k: v for k, v in config_dict(common).items() if k not in NON_RESULT_OPTIONS}
    return pretrain_cache_key(
        method=method, data=data_sha256, common=settings, cfg=config_dict(cfg)
    )


def _write_run_state(out_dir: Path, fingerprint: str, phase: str) -> None:
    atomic_write_json(out_dir / "run_state.json", {"fingerprint": fingerprint, "phase": phase})


def _maybe_resume(ckpt, out_dir: Path, fingerprint: str, fresh: bool, default_dir: bool = False):
    """Restores ``ckpt`` when it belongs to this run; returns ``(iteration | None, history)``.

    Checkpoints of a run with other settings are an error in an explicit ``--output-dir``; in
    the default folder they are moved aside (never deleted) and the run starts fresh.
    """
    if ckpt.latest is None:
        return None, None
    state_file = out_dir / "run_state.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    if fresh:
        print(f"[fresh] moved the previous checkpoints to {ckpt.move_aside()}", flush=True)
        return None, None
    if state.get("fingerprint") != fingerprint:
        if default_dir:
            print(
                f"[resume] {ckpt.directory} held checkpoints of a run with other settings; "
                f"moved them to {ckpt.move_aside()} and starting fresh",
                flush=True,
            )
            return None, None
        raise FileExistsError(
            f"{ckpt.directory} holds checkpoints of a run with different data or settings. "
            "Use another --output-dir, or --fresh to move them aside and start over."
        )
    iteration, history = ckpt.restore()
    return iteration, history


def prepare_data(recipe: Recipe, common: CommonConfig, data=None):
    """Loads (and subsets) the run's data; returns ``(data, common)``.

    ``data`` (a ``ClusteringData``, e.g. from ``from_arrays``) replaces loading
    ``common.dataset``, whose name then becomes the data's. The budget and the data set's
    defaults are filled afterwards, by :func:`tfdeepclust.run_spec.resolve`.
    """
    if data is None:
        data = load_dataset(
            common.dataset,
            data_dir=common.data_dir,
            tfds_dir=common.tfds_dir,
            n_clusters=common.n_clusters,
            image_size=common.image_size,
            label_column=common.label_column,
            row_norm=common.row_norm,
        )
    else:
        if common.n_clusters is not None and common.n_clusters != data.n_clusters:
            data = dataclasses.replace(data, n_clusters=common.n_clusters)
            validate_data(data.x, data.y, data.n_clusters, data.name)
        common = dataclasses.replace(common, dataset=data.name)
    if common.subset:
        data = data.subset(common.subset, seed=common.seed)
    if common.batch_size > data.n_samples:
        print(f"[warn] batch size {common.batch_size} > {data.n_samples} samples; clipped.")
    return data, common


def build_seeded(recipe: Recipe, cfg, common: CommonConfig, data):
    """The run's model, built from freshly seeded generators, with its target store attached.

    Seeded here, after the data: preparing a TFDS data set for the first time draws from the
    global generators, and the initial weights would otherwise differ between a first and a later
    run with the same seed (measured). Every path that must reproduce a run's initial weights
    (runner, sweeps, benchmarks) builds through this.
    """
    keras.utils.set_random_seed(common.seed)
    model = recipe.build(cfg, common, data)
    model.attach_targets(data.n_samples)
    return model


def pretrain_cache_path(recipe: Recipe, cfg, common: CommonConfig, data) -> Path | None:
    """Where this run's pretrained weights are cached: ``--pretrained`` (which must exist), else a
    file in the cache folder keyed by everything that determines the weights, else None."""
    if common.pretrained is not None:
        if not Path(common.pretrained).is_file():
            raise FileNotFoundError(f"--pretrained {common.pretrained} does not exist.")
        return Path(common.pretrained)
    if not common.pretrain_cache_dir:
        return None
    key = pretrain_cache_key(
        method=recipe.name,
        data=data.sha256,
        seed=common.seed,
        epochs=common.pretrain_epochs,
        batch=common.batch_size,
        **recipe.pretrain_key(cfg, common, data),
    )
    return Path(common.pretrain_cache_dir) / f"{recipe.name}_{data.name}_{key}.weights.h5"


def run(recipe: Recipe, common: CommonConfig, cfg, data=None) -> dict:
    """Runs one training job end to end and returns the results dict (also written as JSON).

    Everything (networks, optimizers, targets) is created under the ``--strategy`` scope, and
    ``batch_size`` is the global batch. Only the chief of a multi-worker cluster writes files.
    ``data`` (a ``ClusteringData``) trains on in-memory data instead of ``common.dataset``.

    Returns:
        The results written to ``results.json``, plus (not in the file) ``labels``, the cluster
        of every sample, ``embedding``, its learned representation (or None), and ``model``,
        the trained ``keras.Model`` (``predict`` on new data).
    """
    check_options(common, cfg)  # before any data is loaded or anything is trained
    t_start = time.perf_counter()
    # First: MultiWorkerMirroredStrategy must exist before any other TensorFlow work.
    strategy = make_strategy(common.strategy, common.cpu_replicas)
    workers = WorkerOutputs(strategy)
    try:
        with strategy.scope():
            return _run(recipe, common, cfg, strategy, workers, t_start, data)
    finally:
        workers.cleanup()


def _run(
    recipe: Recipe, common: CommonConfig, cfg, strategy, workers, t_start: float, data=None
) -> dict:
    if common.time_limit is not None:  # seconds from here on (the API also takes "90m")
        common = dataclasses.replace(common, time_limit=parse_duration(common.time_limit))
    sha = git_sha()  # the code that starts the run (files may change while it trains)
    keras.utils.set_random_seed(common.seed)
    if common.deterministic:
        tf.config.experimental.enable_op_determinism()

    t0 = time.perf_counter()
    data, common = prepare_data(recipe, common, data)
    spec = resolve(recipe, common, cfg, data)  # every default filled, in run_spec's order
    common, cfg = spec.common, spec.config
    load_time = time.perf_counter() - t0
    print(
        f"[data] {data.name}: {data.n_samples} samples of shape {data.x.shape[1:]}, "
        f"K={data.n_clusters}, labels={'yes' if data.y is not None else 'no'} "
        f"({load_time:.1f} s)",
        flush=True,
    )

    out_dir = Path(common.output_dir or f"runs/{recipe.name}_{data.name}_seed{common.seed}")
    if not workers.chief:
        # A non-chief worker starts from copies of the chief's checkpoints and pretraining cache
        # (same path through the run) and writes only to its private folder.
        out_dir = workers.path(out_dir, copy_existing=True)
        common = dataclasses.replace(
            common,
            export_dir=str(workers.path(common.export_dir)),
            pretrain_cache_dir=str(workers.path(common.pretrain_cache_dir, copy_existing=True)),
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = next_results_path(out_dir, common.overwrite)

    limit_s = common.time_limit

    def phase_callbacks(phase: str) -> list:
        cbs = []
        if limit_s is not None:  # counted from the start of the run, across both phases
            cbs.append(TimeLimit(limit_s, "epoch" if phase == "pretrain" else "step", t_start))
        if common.tensorboard:
            # One TensorBoard run per phase (pretrain / cluster): step counters do not collide.
            cbs.append(keras.callbacks.TensorBoard(log_dir=str(out_dir / "tensorboard" / phase)))
        return cbs

    model = build_seeded(recipe, cfg, common, data)

    # Resume: a checkpoint of this very run (same data, seed and settings) continues the
    # clustering phase where it stopped; pretraining and k-means are not redone.
    ckpt = ClusteringCheckpoint(out_dir / "checkpoints", model)
    fingerprint = run_fingerprint(recipe.name, data.sha256, common, cfg)
    resumed_from, history = _maybe_resume(
        ckpt, out_dir, fingerprint, common.fresh, default_dir=common.output_dir is None
    )

    if resumed_from is None:
        # Pretraining (cached per data set + everything that determines the weights).
        cache_path = pretrain_cache_path(recipe, cfg, common, data)
        pre = recipe.pretrain(model, cfg, common, data, cache_path, phase_callbacks("pretrain"))
        t0 = time.perf_counter()
        init = recipe.initialise(model, cfg, common, data)
        init["wall_time_s"] = time.perf_counter() - t0
    else:
        pre = {"resumed": True, "wall_time_s": 0.0}
        init = {"resumed": True, "wall_time_s": 0.0}
        print(
            f"[resume] continuing from the checkpoint at iteration {resumed_from} in "
            f"{ckpt.directory}",
            flush=True,
        )
    _write_run_state(out_dir, fingerprint, "clustering")

    # Refresh figures (ACC / NMI, cluster-size health) and FR/FD go to the default summary
    # writer; Keras' TensorBoard callback logs the losses beside them.
    summaries = (
        tf.summary.create_file_writer(str(out_dir / "tensorboard" / "cluster" / "refresh"))
        if common.tensorboard
        else None
    )
    with summaries.as_default() if summaries is not None else contextlib.nullcontext():
        clus = recipe.cluster(
            model, cfg, common, data, phase_callbacks("cluster"), checkpoint=ckpt, history=history
        )
    _write_run_state(out_dir, fingerprint, "complete")

    t0 = time.perf_counter()
    final = recipe.finalize(model, cfg, common, data)
    labels = final["labels"]
    metrics = {"acc": None, "nmi": None, "nmi_geometric": None, "ari": None}
    if data.y is not None:
        metrics = supervised_metrics(data.y, labels)
        if "labels_q" in final:
            metrics["acc_argmax_q"] = supervised_metrics(data.y, final["labels_q"])["acc"]
    label_free = label_free_metrics(
        labels,
        data.n_clusters,
        final.get("probabilities"),
        final.get("embedding"),
        seed=common.seed,
    )
    eval_time = time.perf_counter() - t0

    if clus.get("diagnostics"):
        plot_diagnostics(
            clus["diagnostics"],
            str(out_dir / "fr_fd.png"),
            f"{method_title(recipe.name, getattr(cfg, 'mode', None))} on {data.name} "
            f"(seed {common.seed})",
        )
    labels_path = write_labels(
        out_dir / results_path.name.replace("results", "labels").replace(".json", ".csv"),
        labels,
        data.y,
    )
    t0 = time.perf_counter()
    outputs_path, pictures = write_outputs_and_pictures(
        out_dir,
        results_path,
        common,
        data,
        final,
        f"{method_title(recipe.name, getattr(cfg, 'mode', None))} on {data.name}",
    )
    pictures_time = time.perf_counter() - t0

    export_path = None
    t0 = time.perf_counter()
    if common.export:
        export_path = export_saved_model(
            model,
            common.export_dir,
            f"{recipe.name}_{data.name}",
            metadata={
                "dataset": data.name,
                "data_sha256": data.sha256,
                "metrics": metrics,
                "git_sha": sha,
                "seed": common.seed,
                "config": config_dict(cfg),
            },
            input_scale=data.info.get("input_scale", 1.0),
        )
    export_time = time.perf_counter() - t0

    wall_time = {
        "load": load_time,
        "pretrain": pre.get("wall_time_s"),
        "init": init["wall_time_s"],
        "cluster": clus.get("wall_time_s"),
        "evaluate": eval_time,
        "export": export_time,
        "pictures": pictures_time,
        "total": time.perf_counter() - t_start,
    }
    results = assemble_results(
        recipe,
        common,
        cfg,
        data,
        replicas=int(strategy.num_replicas_in_sync),
        metrics=metrics,
        label_free=label_free,
        init=init,
        pre=pre,
        clus=clus,
        resumed_from=resumed_from,
        wall_time=wall_time,
        sha=sha,
        paths={
            "export_path": None if export_path is None else str(export_path),
            "results_path": str(results_path),
            "labels_path": str(labels_path),
            "outputs_path": str(outputs_path),
        },
        pictures=pictures,
    )
    atomic_write_json(results_path, results, overwrite=common.overwrite)
    print_summary(results)
    return {**results, "labels": labels, "embedding": final.get("embedding"), "model": model}


__all__ = [
    "Recipe",
    "build_seeded",
    "prepare_data",
    "pretrain_cache_path",
    "run",
]
