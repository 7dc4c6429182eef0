"""The user's own data: a ``.npz`` file, a folder of images, a CSV of numeric features, or
in-memory NumPy arrays and ``tf.data`` datasets."""

from __future__ import annotations

import csv
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from tfdeepclust.data.dataset import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def apply_input_scale(x: np.ndarray, input_scale: float) -> np.ndarray:
    """Raw image values to the model's float32 units: the operation :func:`_scale_images`
    applied to the training data, for new samples (``input_scale`` from the data's info)."""
    x = np.asarray(x).astype(np.float32)
    return x if input_scale == 1.0 else x / np.float32(1.0 / input_scale)


def _scale_images(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Brings integer or 0..255 float images to float32 in [0, 1]; leaves [0, 1] floats alone.

    Returns:
        The images and the factor applied (exported models apply it to raw inputs).
    """
    if np.issubdtype(x.dtype, np.integer):
        top = int(x.max()) if x.size else 0
        if int(x.min(initial=0)) < 0 or top > 65535:
            raise DataError(
                f"Integer image values span [{x.min()}, {top}]; expected 0..255 (8-bit) or "
                "0..65535 (16-bit). Convert your images to one of these ranges or to [0, 1] floats."
            )
        scale = 255.0 if top <= 255 else 65535.0
        return apply_input_scale(x, 1.0 / scale), 1.0 / scale
    x = x.astype(np.float32)
    if not x.size:
        return x, 1.0
    bad = int(np.count_nonzero(~np.isfinite(x)))
    if bad:
        raise DataError(
            f"Images hold {bad} non-finite values (NaN or inf); replace or drop those samples."
        )
    low, top = float(x.min()), float(x.max())
    # The same rule on both sides: values below 0 are refused as values above 255 are.
    if low >= -1e-6 and top <= 1.0 + 1e-6:
        return x, 1.0
    if low >= 0.0 and top <= 255.0:
        return apply_input_scale(x, 1.0 / 255.0), 1.0 / 255.0
    raise DataError(
        f"Image values span [{low:.3g}, {top:.3g}]; expected [0, 1] or [0, 255]. "
        "Rescale your images to [0, 1] before saving them (for example (x - x.min()) / "
        "(x.max() - x.min()))."
    )


def load_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Loads ``x`` (and optional ``y``) from a ``.npz`` written by ``np.savez``.

    ``x`` of rank 3 (``[N, H, W]``) gets a channel axis; rank 4 is ``[N, H, W, C]`` images;
    rank 2 is tabular. Object arrays are refused (no pickle is ever loaded).

    Returns:
        ``x`` (images scaled to [0, 1]), ``y`` or None, and info with ``input_scale``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"npz file {path} does not exist. Check the path after 'npz:'.")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic == b"\x93NUMPY":
        raise DataError(
            f"{path} is a single .npy array (np.save), not an .npz archive. Save it with "
            "np.savez(path, x=...) (y=... optional) and pass that file."
        )
    if not magic.startswith(b"PK"):
        raise DataError(
            f"{path} is not an .npz archive (it does not start as a zip file does; first bytes "
            f"{magic!r}). Create it with np.savez(path, x=..., y=...)."
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            if "x" not in f.files:
                raise DataError(
                    f"{path} has arrays {f.files} but no 'x'. Save it with np.savez(path, x=..., "
                    "y=...) (y is optional)."
                )
            x = f["x"]
            y = f["y"] if "y" in f.files else None
    except DataError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise DataError(
            f"{path} is not a readable .npz file ({e}); it may be truncated or corrupted. "
            "Re-create it with np.savez."
        ) from e
    except ValueError as e:
        if "allow_pickle" not in str(e):  # numpy's message for object arrays
            raise DataError(f"{path} could not be read as an .npz archive: {e}") from e
        raise DataError(
            f"{path} holds object arrays, which would need pickle to load ({e}); save plain "
            "numeric arrays instead."
        ) from e
    return standardise_arrays(x, y, str(path))


def standardise_arrays(
    x: np.ndarray, y: np.ndarray | None, source: str
) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Brings the user's arrays to the loaders' form.

    ``x`` of rank 3 (``[N, H, W]``) gets a channel axis, rank 4 is ``[N, H, W, C]`` images (scaled
    to [0, 1]) and rank 2 is tabular. Labels may be integers or any other values (e.g. strings),
    which are numbered in sorted order and named in ``info["label_names"]``.

    Args:
        x: Samples.
        y: Labels or None.
        source: Names the data in error messages.

    Returns:
        float32 ``x``, int64 ``y`` or None, and info with ``input_scale``.
    """
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim not in (2, 4):
        raise DataError(
            f"{source}: x has shape {x.shape}; expected [N, D] features, [N, H, W] or "
            "[N, H, W, C] images."
        )
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"{source}: x has dtype {x.dtype}; expected numbers.")
    info: dict = {"input_scale": 1.0}
    if x.ndim == 4:
        x, info["input_scale"] = _scale_images(x)
    else:
        x = x.astype(np.float32)
    if y is not None:
        y = np.asarray(y).reshape(-1)
        if np.issubdtype(y.dtype, np.integer):
            y = y.astype(np.int64)
        else:
            if y.dtype.kind in "SO":  # bytes from tf.data string tensors
                y = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in y])
            names, y = np.unique(y, return_inverse=True)
            info["label_names"] = [str(n) for n in names]
    return x, y, info


# Keys under which dict-valued tf.data elements (TFDS style) hold the samples and the labels.
SAMPLE_KEYS, LABEL_KEYS = ("image", "x", "features"), ("label", "y")


def arrays_from_tf_dataset(ds, batched: bool | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Reads a finite ``tf.data.Dataset`` into memory (the methods refresh targets on all data).

    Elements may be ``x``, ``(x,)``, ``(x, y)`` or a dict with ``image``/``x``/``features`` and
    optionally ``label``/``y`` (TFDS's form).

    Args:
        ds: The dataset.
        batched: Whether elements are batches. None infers it: batched when the sample
            tensor's leading dimension is unknown, as ``ds.batch(n)`` makes it (pass True for
            ``batch(n, drop_remainder=True)``).

    Returns:
        ``x`` and ``y`` (None without labels) as NumPy arrays.
    """

    def parts(el):
        if isinstance(el, dict):
            xk = next((k for k in SAMPLE_KEYS if k in el), None)
            if xk is None:
                raise DataError(
                    f"tf.data elements are dicts with keys {sorted(el)}; the samples must be "
                    f"under one of {SAMPLE_KEYS} (labels, optional, under one of {LABEL_KEYS})."
                )
            return el[xk], next((el[k] for k in LABEL_KEYS if k in el), None)
        if isinstance(el, tuple | list):
            if len(el) not in (1, 2):
                raise DataError(
                    f"tf.data elements are tuples of {len(el)}; expected (x,) or (x, y)."
                )
            return el[0], el[1] if len(el) == 2 else None
        return el, None

    x_spec, y_spec = parts(ds.element_spec)
    if batched is None:
        shape = x_spec.shape
        batched = bool(shape.rank) and shape[0] is None
    # tf.data passes tuple elements as separate arguments and anything else as one.
    if y_spec is None:
        ds = ds.map(lambda *el: parts(el if len(el) > 1 else el[0])[0])
    else:
        ds = ds.map(lambda *el: parts(el if len(el) > 1 else el[0]))
    if batched:
        ds = ds.unbatch()
    xs, ys = [], []
    for chunk in ds.batch(4096).as_numpy_iterator():
        if y_spec is None:
            xs.append(chunk)
        else:
            xs.append(chunk[0])
            ys.append(chunk[1])
    if not xs:
        raise DataError("the tf.data dataset is empty.")
    return np.concatenate(xs), (np.concatenate(ys) if ys else None)


def load_image_folder(
    path: str | Path, image_size: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Loads every image below ``path``; first-level sub-folder names become labels.

    Images directly inside ``path`` (no sub-folders) are unlabelled. All images are converted to
    grey (``L``) if every image is grey, else RGB.

    Args:
        path: The folder.
        image_size: ``(height, width)`` to resize every image to; required when sizes differ.

    Returns:
        Images ``[N, H, W, C]`` in [0, 1], labels or None, and info (class names, file count).
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(path)
    if not root.is_dir():
        raise DataError(f"Image folder {root} does not exist. Check the path after 'dir:'.")
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        others = [p.name for p in files[:5]]
        raise DataError(
            f"No images ({', '.join(sorted(IMAGE_SUFFIXES))}) found in {root}"
            + (f"; found other files such as {others}" if others else " (the folder is empty)")
            + ". Point dir: at a folder of image files (optionally one sub-folder per class)."
        )
    decoded = []
    for p in images:
        try:
            with Image.open(p) as im:
                im.load()
                decoded.append(im.copy())
        except (UnidentifiedImageError, OSError) as e:
            raise DataError(f"{p} is not a readable image ({e}). Remove or replace it.") from e
    sizes = Counter(im.size for im in decoded)  # PIL sizes are (width, height)
    if image_size is None and len(sizes) > 1:
        raise DataError(
            f"Images in {root} have {len(sizes)} different sizes (e.g. "
            f"{', '.join(f'{w}x{h}' for (w, h), _ in sizes.most_common(3))}); pass --image-size "
            "H W to resize them all to one size."
        )
    grey = all(im.mode in ("L", "1", "I;16", "I") for im in decoded)
    mode = "L" if grey else "RGB"
    target = (image_size[1], image_size[0]) if image_size else decoded[0].size
    arr = np.stack(
        [
            np.asarray(
                im.convert(mode)
                if im.size == target
                else im.convert(mode).resize(target, Image.BILINEAR),
                dtype=np.uint8,
            )
            for im in decoded
        ]
    )
    if arr.ndim == 3:
        arr = arr[..., None]
    x = arr.astype(np.float32) / np.float32(255.0)
    rel = [p.relative_to(root).parts for p in images]
    labelled = all(len(r) >= 2 for r in rel)
    info = {"n_files": len(images), "mode": mode, "input_scale": 1.0 / 255.0}
    if not labelled:
        return x, None, info
    classes = sorted({r[0] for r in rel})
    index = {c: i for i, c in enumerate(classes)}
    info["class_names"] = classes
    return x, np.array([index[r[0]] for r in rel], dtype=np.int64), info


def load_csv(
    path: str | Path, label_column: str | None = None
) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Loads a CSV of numeric features (header row optional), with an optional label column.

    Args:
        path: The file.
        label_column: Header name (or 0-based index) of a label column, which may hold strings.

    Returns:
        Features ``[N, D]`` float32, labels or None, and info (column names, label names).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CSV file {path} does not exist. Check the path after 'csv:'.")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"CSV file {path} is empty.")

    def numeric(v: str) -> bool:
        try:
            float(v)
            return True
        except ValueError:
            return False

    has_header = not all(numeric(v) for i, v in enumerate(rows[0]) if v.strip())
    header = rows[0] if has_header else [f"col{i}" for i in range(len(rows[0]))]
    body = rows[1:] if has_header else rows
    width = len(header)
    bad_rows = [i for i, r in enumerate(body) if len(r) != width]
    if bad_rows:
        raise DataError(
            f"{path}: row {bad_rows[0] + 1 + has_header} has {len(body[bad_rows[0]])} fields, "
            f"the header has {width}. Fix the file so every row has the same number of columns."
        )
    label_idx = None
    if label_column is not None:
        if label_column in header:
            label_idx = header.index(label_column)
        elif str(label_column).isdigit() and int(label_column) < width:
            label_idx = int(label_column)
        else:
            raise DataError(f"{path}: no column {label_column!r}; columns are {header}.")
    feat_idx = [i for i in range(width) if i != label_idx]
    x = np.empty((len(body), len(feat_idx)), dtype=np.float64)
    for j, c in enumerate(feat_idx):
        col = [r[c].strip() for r in body]
        bad = [v for v in col if v and not numeric(v)]
        if bad:
            raise DataError(
                f"{path}: column {header[c]!r} is not numeric (e.g. {bad[0]!r}). Drop it, encode "
                "it as numbers, or name it with --label-column if it holds labels."
            )
        x[:, j] = [float(v) if v else np.nan for v in col]
    info: dict = {"columns": [header[i] for i in feat_idx]}
    y = None
    if label_idx is not None:
        names = sorted({r[label_idx].strip() for r in body})
        index = {n: i for i, n in enumerate(names)}
        y = np.array([index[r[label_idx].strip()] for r in body], dtype=np.int64)
        info["label_names"] = names
    return x.astype(np.float32), y, info
