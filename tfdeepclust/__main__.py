"""``python -m tfdeepclust``: inspect exported models.

``info --model DIR`` prints the signatures and the tfdeepclust metadata of an export (the newest
version when DIR is a model folder holding integer versions).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _resolve_version(path: Path) -> Path:
    if (path / "saved_model.pb").is_file():
        return path
    versions = sorted(
        (
            int(p.name)
            for p in path.glob("*")
            if p.name.isdigit() and (p / "saved_model.pb").is_file()
        ),
        reverse=True,
    )
    if not versions:
        raise FileNotFoundError(
            f"{path} is not a SavedModel folder (no saved_model.pb) and holds no integer version "
            "folders; pass saved_models/<name> or saved_models/<name>/<version>."
        )
    return path / str(versions[0])


def cmd_info(args) -> int:
    import tensorflow as tf

    from tfdeepclust.export import read_metadata

    version_dir = _resolve_version(Path(args.model))
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tfdeepclust",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="print signatures and metadata of an exported model")
    p.add_argument("--model", required=True, help="saved_models/<name>[/<version>]")
    p.set_defaults(func=cmd_info)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
