"""Command-line parsing shared by the training scripts.

Common options are declared once here; each method's hyperparameters come from its config
dataclass, one ``--flag`` per field, so a new hyperparameter needs no CLI code.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import io
import re
import textwrap
import tokenize
import types
import typing

from tfdeepclust.config import CommonConfig
from tfdeepclust.console import EVERYTHING, VERBOSE_LEVELS
from tfdeepclust.data.loading import ROW_NORMS, USER_PREFIXES, dataset_names
from tfdeepclust.run_spec import with_preset


def _str2bool(v: str) -> bool:
    if v.lower() in ("1", "true", "yes", "on"):
        return True
    if v.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {v!r}")


def _non_negative_int(v: str) -> int:
    n = int(v)
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {v!r}")
    return n


def _duration(v: str) -> float:
    from tfdeepclust.durations import parse_duration

    try:
        return parse_duration(v)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _scalar_type(tp):
    """The argparse type of a dataclass field annotation (unwrapping ``X | None``)."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = args[0] if args else str
    return {bool: _str2bool, int: int, float: float, str: str}.get(tp, str)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except ``None`` (such options say their default themselves) and the
    on/off flags (``--quick``, ``--no-export``), whose stored default only confuses."""

    def _get_help_string(self, action):
        if action.default is None or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)


def field_docs(cls) -> dict[str, str]:
    """Each dataclass field's source comments: the comment lines right above it and its own
    trailing comment. The config classes' comments are the one place a hyperparameter is
    documented; ``--help`` shows them (the pattern of ``simple_parsing``). A config that extends
    a model's hyperparameter class gets the comments of both."""
    docs: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        if dataclasses.is_dataclass(base):
            docs.update(_own_field_docs(base))
    return docs


def _own_field_docs(cls) -> dict[str, str]:
    """:func:`field_docs` of the fields written in ``cls``'s own source."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # no source (frozen app): flags keep their defaults only
        return {}
    comments: dict[int, str] = {}
    code_lines: set[int] = set()
    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
        elif tok.type not in skip:
            code_lines.update(range(tok.start[0], tok.end[0] + 1))
    names = {f.name for f in dataclasses.fields(cls)}
    docs: dict[str, str] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        m = re.match(r"\s*(\w+)\s*:", line)
        if not m or m.group(1) not in names or number not in code_lines:
            continue
        above: list[str] = []
        k = number - 1
        while k in comments and k not in code_lines:  # the comment block directly above
            above.insert(0, comments[k])
            k -= 1
        docs[m.group(1)] = " ".join(above + ([comments[number]] if number in comments else []))
    return docs


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls, title: str) -> None:
    """Adds ``--field-name`` for every field of dataclass ``cls``.

    The help text is the field's source comment (:func:`field_docs`) and its default; a field
    listed in the class's ``CHOICES`` mapping accepts only those values.
    """
    group = parser.add_argument_group(title)
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    choices = getattr(cls, "CHOICES", {})
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        flag = "--" + f.name.replace("_", "-")
        doc = docs.get(f.name, "")
        # argparse formats help with %: a literal percent sign in a comment must be doubled.
        text = (f"{doc} " if doc else "").replace("%", "%%") + f"(default: {f.default})"
        kwargs = {"dest": f"m_{f.name}", "default": None, "help": text}
        if typing.get_origin(tp) in (tuple, list):
            kwargs.update(type=int, nargs="+", metavar="N")
        else:
            kwargs["type"] = _scalar_type(tp)
            if f.name in choices:
                kwargs["choices"] = tuple(choices[f.name])
            else:
                kwargs["metavar"] = f.name.upper()
        group.add_argument(flag, **kwargs)


def build_parser(
    method_name: str, method_config_cls, description: str, presets: dict | None = None
) -> argparse.ArgumentParser:
    """The parser of ``train_<method>.py``: common options + the method's hyperparameters.

    Args:
        method_name: ``asc2d`` | ``adec`` | ``dfvc`` (the program name).
        method_config_cls: The method's config dataclass; one ``--flag`` per field.
        description: Shown by ``--help``.
        presets: Named recipes, ``{name: {"help": str, "config": {field: value},
            "common": {budget field: value}}}``; ``--preset NAME`` fills every value the
            command line does not give (see :func:`parse_args`).
    """
    d = CommonConfig()
    p = argparse.ArgumentParser(
        prog=f"train_{method_name}.py",
        description=description,
        formatter_class=_HelpFormatter,
    )
    p.set_defaults(_presets=dict(presets or {}))
    if presets:
        p.add_argument(
            "--preset",
            choices=sorted(presets),
            default=None,
            help="a named recipe; explicit flags override its values. "
            + "; ".join(
                f"{name}: {spec['help']}".replace("%", "%%")
                for name, spec in sorted(presets.items())
            ),
        )
    g = p.add_argument_group("data")
    g.add_argument(
        "--dataset",
        default=d.dataset,
        help=", ".join(dataset_names())
        + " (reuters10k: your reutersidf10k.npy in --data-dir), or "
        + " | ".join(f"{prefix}PATH" for prefix in USER_PREFIXES),
    )
    g.add_argument(
        "--data-dir",
        default=None,
        help="folder with official raw files (e.g. ../shared/data); default $TFDEEPCLUST_DATA_DIR",
    )
    g.add_argument("--tfds-dir", default=None, help="where TFDS keeps prepared data")
    g.add_argument(
        "--n-clusters",
        type=int,
        default=None,
        help="number of clusters (default: number of label classes)",
    )
    g.add_argument(
        "--image-size",
        type=int,
        nargs=2,
        metavar=("H", "W"),
        default=None,
        help="resize folder images to H W",
    )
    g.add_argument("--label-column", default=None, help="label column of a CSV")
    g.add_argument("--row-norm", choices=ROW_NORMS, default=d.row_norm, help="tabular row scaling")
    g.add_argument(
        "--subset",
        type=int,
        default=None,
        help="use a random subset of this many samples (demos, tests)",
    )
    g = p.add_argument_group("training budget")
    g.add_argument("--seed", type=int, default=d.seed, help="random seed")
    g.add_argument("--batch-size", type=int, default=d.batch_size, help="global batch size")
    g.add_argument(
        "--budget",
        choices=("quick", "default", "paper"),
        default=d.budget,
        help="budget preset for pretrain epochs / iterations (explicit flags win)",
    )
    g.add_argument(
        "--quick",
        action="store_true",
        help="tiny budget: the whole pipeline in under a minute (= --budget quick)",
    )
    g.add_argument("--pretrain-epochs", type=int, default=None)
    g.add_argument("--maxiter", type=int, default=None, help="clustering iterations")
    g.add_argument(
        "--update-interval",
        type=int,
        default=None,
        help="T: iterations between full-data target refreshes "
        "(default 140 for MNIST-full/Fashion-MNIST, 30 for smaller sets)",
    )
    g.add_argument(
        "--tol",
        type=float,
        default=None,
        help="label-change stop tolerance (default: 1e-3 for ASC2D/ADEC; 0 = never for DFVC, "
        "which trains its whole budget)",
    )
    g.add_argument("--kmeans-n-init", type=int, default=d.kmeans_n_init, help="k-means restarts")
    g.add_argument(
        "--collapse-patience",
        type=_non_negative_int,
        default=d.collapse_patience,
        help="end the clustering phase (stop reason 'collapsed') after this many target "
        "refreshes in a row with >= 90%% of the samples in one cluster; 0 = never",
    )
    g.add_argument(
        "--drift-guard",
        type=_str2bool,
        default=d.drift_guard,
        metavar="{on,off}",
        help="label-free guard of the DEC-family clustering phase: stop once the label change "
        "stops falling (stop reason 'plateau'), or on a label flip, restoring the refresh "
        "before it (stop reason 'drift'); off = train on as the papers do (DFVC never uses it)",
    )
    g.add_argument(
        "--time-limit",
        type=_duration,
        default=None,
        help="wall-clock budget of the run (5400, 90m, 2h30m): training stops before it "
        "would run out, at a saved point (pretraining: an epoch's backup, clustering: a "
        "checkpoint), and the same command continues from there; exit code 75. The closing "
        "evaluation and export come after it, so leave them a margin",
    )
    g = p.add_argument_group("outputs")
    g.add_argument(
        "--output-dir",
        default=None,
        help="results, plots, logs (default runs/<method>_<dataset>_seed<k>)",
    )
    g.add_argument("--export-dir", default=d.export_dir, help="TF Serving model base path")
    g.add_argument(
        "--no-export", dest="export", action="store_false", help="skip the SavedModel export"
    )
    g.add_argument(
        "--no-pictures",
        dest="pictures",
        action="store_false",
        help="skip the pictures of the clusters (clusters.png, embedding_map.png, "
        "confusion_matrix.png; python -m tfdeepclust report RUN_DIR draws them later)",
    )
    g.add_argument(
        "--pretrained",
        default=None,
        help="auto-encoder weights (.weights.h5) to start from instead of pretraining",
    )
    g.add_argument(
        "--pretrain-cache-dir",
        default=d.pretrain_cache_dir,
        help="where pretrained weights are cached and reused across runs",
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing results file instead of writing a new one beside it",
    )
    g.add_argument(
        "--fresh",
        action="store_true",
        help="start over even if --output-dir holds checkpoints of this run (they "
        "are moved aside, not deleted); by default a rerun resumes",
    )
    g.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs")
    g.add_argument(
        "--deterministic",
        action="store_true",
        help="enable TF op determinism (same seed + machine => same labels; slower)",
    )
    g.add_argument(
        "--verbose",
        type=int,
        nargs="?",
        const=EVERYTHING,
        default=d.verbose,
        choices=VERBOSE_LEVELS,
        help="0 results only; 1 about ten progress lines per phase with an ETA (default); "
        "2 (or a bare --verbose) everything: a line per epoch and per target refresh, and "
        "TensorFlow's start-up logs",
    )
    g = p.add_argument_group(
        "distributed training (tf.distribute)",
        "--batch-size is the global batch, split across replicas; results match one device.",
    )
    from tfdeepclust.distribute import STRATEGIES

    g.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=d.strategy,
        help="mirrored: every local GPU; multiworker: several hosts, roles from TF_CONFIG",
    )
    g.add_argument(
        "--cpu-replicas",
        type=int,
        default=d.cpu_replicas,
        help="with --strategy mirrored and no GPU: split the CPU into this many replicas",
    )
    _add_tuning_arguments(p, method_name)
    add_dataclass_arguments(p, method_config_cls, f"{method_name} hyperparameters")
    return p


def _add_tuning_arguments(p: argparse.ArgumentParser, method_name: str) -> None:
    from tfdeepclust.tuning.hypermodel import OBJECTIVES
    from tfdeepclust.tuning.space import SEARCH_SPACES
    from tfdeepclust.tuning.sweep import TUNERS, TuneOptions

    d = TuneOptions()
    names = [q.name for q in SEARCH_SPACES.get(method_name, ())]
    g = p.add_argument_group(
        "hyperparameter sweep (KerasTuner)",
        "--tune runs a sweep instead of one run: the auto-encoder is pretrained once and every "
        "trial reruns the clustering phase with other hyperparameters.",
    )
    g.add_argument("--tune", action="store_true", help="run a KerasTuner sweep")
    g.add_argument("--tuner", choices=TUNERS, default=d.tuner, help="KerasTuner search algorithm")
    g.add_argument("--max-trials", type=int, default=d.max_trials, help="tuning trials")
    g.add_argument(
        "--objective",
        choices=sorted(OBJECTIVES),
        default=d.objective,
        help="label-free by default; oracle_* choose by ground-truth labels",
    )
    g.add_argument(
        "--tune-params",
        nargs="+",
        default=None,
        metavar="NAME",
        help=f"parameters to tune (default: all of {names}); n_clusters sweeps K from 2 to "
        "twice the expected K (--n-clusters or the label classes) to choose K without labels",
    )
    g.add_argument("--tune-dir", default=d.tune_dir, help="where sweeps are kept and resumed")
    g.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="Hyperband: most target-refresh intervals per trial (default maxiter / T)",
    )
    g.add_argument(
        "--no-retrain-best",
        dest="retrain_best",
        action="store_false",
        help="skip retraining and exporting the best trial",
    )


def recipe_parser(recipe) -> argparse.ArgumentParser:
    """:func:`build_parser` for a runner recipe (its name, config, description and presets)."""
    return build_parser(
        recipe.name, recipe.config_cls, recipe.description, getattr(recipe, "presets", None)
    )


# CommonConfig fields without a command-line flag (set from Python only).
COMMON_NOT_FLAGS = ("extra",)


def parse_args(parser: argparse.ArgumentParser, method_config_cls, argv=None):
    """Returns ``(CommonConfig, method config)`` from the command line."""
    ns = argv if isinstance(argv, argparse.Namespace) else parser.parse_args(argv)
    preset_name = getattr(ns, "preset", None)
    # Every shared option has a flag whose dest is its field name (a test checks it); a method
    # option's dest is m_<field>. Flags left unset are None, and the preset fills those
    # (run_spec's precedence).
    common_names = [
        f.name for f in dataclasses.fields(CommonConfig) if f.name not in COMMON_NOT_FLAGS
    ]
    method_names = [f.name for f in dataclasses.fields(method_config_cls)]
    given = {name: getattr(ns, name, None) for name in common_names}  # no --preset: None
    given.update({name: getattr(ns, f"m_{name}") for name in method_names})
    values = with_preset(
        ns._presets, preset_name, {k: v for k, v in given.items() if v is not None}
    )
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    special = {"budget": "quick" if ns.quick else values.get("budget"), "preset": preset_name}
    common = CommonConfig(**{name: special.get(name, values.get(name)) for name in common_names})
    return common, method_config_cls(**{k: values[k] for k in method_names if k in values})


def tune_options(ns: argparse.Namespace):
    """The sweep options of parsed arguments, or None when ``--tune`` is not given."""
    from tfdeepclust.tuning.sweep import TuneOptions

    if not ns.tune:
        return None
    return TuneOptions(
        tuner=ns.tuner,
        max_trials=ns.max_trials,
        objective=ns.objective,
        params=tuple(ns.tune_params or ()),
        tune_dir=ns.tune_dir,
        max_epochs=ns.max_epochs,
        retrain_best=ns.retrain_best,
    )
