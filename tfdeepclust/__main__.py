"""``python -m tfdeepclust``: use exported models.

Commands:
  info     print the signatures and the tfdeepclust metadata of an export
  predict  cluster new data with an export: .npz (array ``x``), a folder of images, or a CSV;
           writes ``input,cluster`` rows (CSV) and optionally the probabilities (.npy)
  report   draw a finished run's pictures again (clusters.png, embedding_map.png,
           confusion_matrix.png) from its folder

A model path is ``saved_models/<name>`` (newest version) or ``saved_models/<name>/<version>``.
Inputs go in the units the training data came in (the export applies the same scaling); image
files are decoded and resized inside the model (the ``predict_images`` signature).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from tfdeepclust.console import DEFAULT_VERBOSE, EVERYTHING


def cmd_info(args) -> int:
    import tensorflow as tf

    from tfdeepclust.export import read_metadata, resolve_version_dir

    version_dir = resolve_version_dir(args.model)
    loaded = tf.saved_model.load(str(version_dir))
    print(f"model: {version_dir}")
    for name, fn in sorted(loaded.signatures.items()):
        ins = {k: f"{v.dtype.name}{v.shape}" for k, v in fn.structured_input_signature[1].items()}
        outs = {k: f"{v.dtype.name}{v.shape}" for k, v in fn.structured_outputs.items()}
        print(f"signature {name}: inputs {ins} -> outputs {outs}")
    try:
        print("metadata:", json.dumps(read_metadata(version_dir), indent=2))
    except FileNotFoundError:
        print("metadata: none (not exported by tfdeepclust)")
    return 0


def _read_input(spec: str):
    """Returns ``(kind, names, payload)``: raw arrays, or encoded image bytes for folders."""
    from tfdeepclust.data.dataset import DataError
    from tfdeepclust.data.user_sources import IMAGE_SUFFIXES, load_csv

    kind, _, path = spec.partition(":") if spec[:4] in ("npz:", "dir:", "csv:") else ("", "", spec)
    path = Path(path)
    if not kind:
        kind = "dir" if path.is_dir() else path.suffix.lstrip(".").lower()
    if kind == "dir":
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"no image files found in {path}")
        return "images", [str(p.relative_to(path)) for p in files], [p.read_bytes() for p in files]
    if kind == "npz":
        try:
            with np.load(path, allow_pickle=False) as f:
                x = f["x"]
        except (OSError, KeyError, ValueError) as e:
            raise DataError(f"{path}: cannot read array 'x' ({e}).") from e
        x = x[..., None] if x.ndim == 3 else x
        return "array", [str(i) for i in range(len(x))], x.astype(np.float32)
    if kind == "csv":
        x, _, _ = load_csv(path)
        return "array", [str(i) for i in range(len(x))], x
    raise DataError(f"cannot tell what {spec} is; use npz:PATH, dir:PATH or csv:PATH")


def cmd_predict(args) -> int:
    import tensorflow as tf

    from tfdeepclust.atomic import atomic_save_npy, atomic_write_text
    from tfdeepclust.data.dataset import DataError
    from tfdeepclust.export import resolve_version_dir

    out = Path(args.output)
    # Refuse before any work, so an existing result is never half-replaced.
    for flag, path in (("--output", out), ("--probabilities", args.probabilities)):
        if path is not None and Path(path).exists() and not args.overwrite:
            raise FileExistsError(f"{path} exists; pass --overwrite or choose another {flag}.")
    version_dir = resolve_version_dir(args.model)
    loaded = tf.saved_model.load(str(version_dir))
    kind, names, payload = _read_input(args.input)
    if kind == "images":
        if "predict_images" not in loaded.signatures:
            raise DataError(f"{version_dir} is not an image model; give an npz or csv input.")
        fn, key = loaded.signatures["predict_images"], "images"
    else:
        fn, key = loaded.signatures["serving_default"], "x"
        want = fn.structured_input_signature[1]["x"].shape[1:]
        if tuple(payload.shape[1:]) != tuple(want):
            raise DataError(
                f"input samples have shape {payload.shape[1:]}, the model expects {tuple(want)}"
            )
    labels, probas = [], []
    for i in range(0, len(names), args.batch_size):
        batch = payload[i : i + args.batch_size]
        res = fn(**{key: tf.constant(batch)})
        labels.append(res["cluster_labels"].numpy())
        probas.append(res["probabilities"].numpy())
    labels, probas = np.concatenate(labels), np.concatenate(probas)
    rows = ["input,cluster", *(f"{n},{c}" for n, c in zip(names, labels, strict=True))]
    atomic_write_text(out, "\n".join(rows) + "\n", overwrite=True)
    if args.probabilities:
        atomic_save_npy(args.probabilities, probas)
    sizes = np.bincount(labels, minlength=probas.shape[1]).tolist()
    print(f"{len(labels)} samples -> {out} (cluster sizes {sizes})")
    return 0


def cmd_report(args) -> int:
    from tfdeepclust.pictures import redraw_run

    drawn = redraw_run(args.run_dir, args.results, args.data, args.data_dir)
    for name, path in sorted(drawn.items()):
        print(f"{name}: {path}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tfdeepclust",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--verbose",
        action="store_const",
        const=EVERYTHING,
        default=DEFAULT_VERBOSE,
        help="also show TensorFlow's start-up logs",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="print signatures and metadata of an exported model")
    p.add_argument("--model", required=True, help="saved_models/<name>[/<version>]")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("predict", help="cluster new data with an exported model")
    p.add_argument("--model", required=True, help="saved_models/<name>[/<version>]")
    p.add_argument("--input", required=True, help="npz:PATH | dir:PATH | csv:PATH (or a path)")
    p.add_argument("--output", default="predictions.csv", help="CSV of input,cluster rows")
    p.add_argument("--probabilities", default=None, help="also save probabilities (.npy)")
    p.add_argument("--batch-size", type=int, default=256, help="samples per model call")
    p.add_argument(
        "--overwrite", action="store_true", help="replace existing --output / --probabilities"
    )
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser(
        "report", help="draw a finished run's pictures again from its folder (runs/<name>)"
    )
    p.add_argument("run_dir", help="the run's --output-dir (holds results.json, outputs.npz)")
    p.add_argument("--results", default="results.json", help="which results file of the run")
    p.add_argument(
        "--data", default=None, help="the run's data, if its recorded name cannot load it"
    )
    p.add_argument("--data-dir", default=None, help="folder of offline data files")
    p.set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    from tfdeepclust.console import quiet_startup

    quiet_startup(args.verbose)
    from tfdeepclust.data.dataset import DataError

    try:
        return args.func(args)
    except (FileNotFoundError, FileExistsError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
