"""TFDS-backed data sets, prepared offline from local official files, failing fast otherwise.

Preparation order (docs/platform.md §3.2-3.3):
1. Already prepared in the TFDS folder: read it with ``download=False``.
2. The official files are in a local folder (``data_dir`` or ``$TFDEEPCLUST_DATA_DIR``): prepare
   with ``DownloadConfig(manual_dir=...)``; TFDS checks every file's sha256.
3. The download host answers: let TFDS download.
4. Otherwise raise :class:`DataNotFoundError` at once, naming each file, its sha256 and where to
   put it, instead of sitting in TFDS's multi-minute DNS retry loop.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import urllib.parse
from pathlib import Path

import numpy as np

from tfdeepclust.data.dataset import DataError, DataNotFoundError

DATA_DIR_ENV = "TFDEEPCLUST_DATA_DIR"
TFDS_DIR_ENV = "TFDEEPCLUST_TFDS_DIR"


def default_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """Returns the folder with official raw files: the argument, else ``$TFDEEPCLUST_DATA_DIR``."""
    value = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataError(
            f"--data-dir {path} does not exist or is not a folder. Pass the folder that holds "
            f"the official files (e.g. ../shared/data), or unset {DATA_DIR_ENV}."
        )
    return path


def default_tfds_dir(tfds_dir: str | os.PathLike | None) -> str | None:
    """Returns where TFDS keeps prepared data (None means TFDS's own default)."""
    value = tfds_dir if tfds_dir is not None else os.environ.get(TFDS_DIR_ENV)
    return str(Path(value).expanduser()) if value else None


def _host_reachable(host: str, port: int, timeout: float = 3.0) -> bool:
    """True if ``host`` resolves and accepts a TCP connection within ``timeout`` seconds.

    DNS lookups can hang far longer than any socket timeout, so the probe runs in a daemon thread.
    """
    result = [False]

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result[0] = True
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return result[0]


def _expected_files(builder) -> dict[str, tuple[str, int]]:
    """Maps each official file name to (sha256, size in bytes) from TFDS's registered checksums."""
    out = {}
    for url, info in (builder.url_infos or {}).items():
        name = info.filename or Path(urllib.parse.urlparse(url).path).name
        out[name] = (info.checksum, int(info.size))
    return out


def _find_manual_dir(files: list[str], data_dir: Path | None, folder: str) -> Path | None:
    if data_dir is None:
        return None
    for cand in (data_dir / folder, data_dir):
        if all((cand / f).is_file() for f in files):
            return cand
    return None


def _missing_message(name: str, folder: str, expected: dict, data_dir: Path | None) -> str:
    lines = [
        f"Data set '{name}' is not prepared, its official files were not found locally, and the "
        "download host cannot be reached (no network).",
        f"Fix: put these files in <data dir>/{folder}/ and pass --data-dir <data dir> "
        f"(or set {DATA_DIR_ENV}):",
    ]
    for fname, (sha, size) in sorted(expected.items()):
        lines.append(f"  {fname}  ({size:,} bytes, sha256 {sha})")
    lines.append(
        "Looked in: " + (f"{data_dir / folder} and {data_dir}" if data_dir else "no data dir given")
    )
    return "\n".join(lines)


@contextlib.contextmanager
def _preparation_lock(builder):
    """An exclusive lock per data set and TFDS folder: concurrent processes (the workers of a
    multi-worker run, parallel test workers) prepare it once instead of corrupting each other's
    half-written files."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock (one process at a time is then up to the user)
        yield
        return
    root = Path(builder.data_dir_root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{builder.name}.prepare.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _reloaded(builder):
    """A fresh builder over the same folder (reads the metadata another process just wrote)."""
    kwargs = {"data_dir": builder.data_dir_root}
    if builder.builder_config is not None:
        kwargs["config"] = builder.builder_config
    return type(builder)(**kwargs)


def prepare_builder(builder, folder: str, data_dir: Path | None):
    """Makes sure ``builder`` is prepared, offline when possible; see the module docstring.

    Returns the builder to read from (a reloaded one if another process prepared the data).
    """
    if builder.is_prepared():
        return builder
    with _preparation_lock(builder):
        builder = _reloaded(builder)
        if builder.is_prepared():
            return builder
        return _prepare_unlocked(builder, folder, data_dir)


def _prepare_unlocked(builder, folder: str, data_dir: Path | None):
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download.download_manager import NonMatchingChecksumError

    # One line instead of TFDS's many progress bars (they flood logs and CI output).
    tfds.disable_progress_bar()
    print(f"[tfdeepclust] preparing TFDS data set '{builder.name}' in {builder.data_dir} (once)")
    expected = _expected_files(builder)
    if not expected:  # a builder with nothing to download (the packaged USPS builder)
        builder.download_and_prepare()
        return builder
    manual = _find_manual_dir(list(expected), data_dir, folder)
    try:
        if manual is not None:
            # A download folder per data set: TFDS keys extracted manual files by file name, so
            # MNIST and Fashion-MNIST (same file names) would otherwise share extractions and
            # Fashion-MNIST would silently be prepared from MNIST's images (measured).
            builder.download_and_prepare(
                download_dir=str(Path(builder.data_dir_root) / "downloads" / builder.name),
                download_config=tfds.download.DownloadConfig(manual_dir=str(manual)),
            )
            return builder
        hosts = {urllib.parse.urlparse(u) for u in (builder.url_infos or {})}
        reachable = bool(hosts) and all(
            _host_reachable(h.hostname, h.port or (443 if h.scheme == "https" else 80))
            for h in hosts
        )
        if not reachable:
            raise DataNotFoundError(_missing_message(builder.name, folder, expected, data_dir))
        builder.download_and_prepare()
    except NonMatchingChecksumError as e:
        raise DataError(
            f"Data set '{builder.name}': a file in {manual} does not match TFDS's registered "
            f"checksum ({e}). Replace it with the official, unmodified file."
        ) from e
    return builder


def load_tfds_arrays(
    name: str,
    splits: list[str],
    label_key: str | None = "label",
    folder: str | None = None,
    data_dir: str | os.PathLike | None = None,
    tfds_dir: str | os.PathLike | None = None,
    builder=None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Loads the named TFDS splits as NumPy ``(images, labels)``, split after split.

    Args:
        name: TFDS builder name (ignored when ``builder`` is given).
        splits: Split names concatenated in this order (e.g. ``["train", "test"]``).
        label_key: Feature holding the label (``coarse_label`` for CIFAR-100-20), or None.
        folder: Sub-folder of ``data_dir`` with the official files (defaults to ``name``).
        data_dir: Folder with official files; defaults to ``$TFDEEPCLUST_DATA_DIR``.
        tfds_dir: Where TFDS keeps prepared data; defaults to ``$TFDEEPCLUST_TFDS_DIR`` or TFDS's.
        builder: An already constructed builder (e.g. the package's USPS builder).

    Returns:
        Raw image array as stored by TFDS and int64 labels (None when ``label_key`` is None).
    """
    import tensorflow_datasets as tfds

    local = default_data_dir(data_dir)
    if builder is None:
        builder = tfds.builder(name, data_dir=default_tfds_dir(tfds_dir))
    builder = prepare_builder(builder, folder or name, local)
    # One split at a time: a "train+test" read interleaves the splits' files.
    xs, ys = [], []
    for split in splits:
        arrays = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1, shuffle_files=False))
        xs.append(arrays["image"])
        if label_key is not None:
            ys.append(np.asarray(arrays[label_key], dtype=np.int64))
    x = np.concatenate(xs)
    y = np.concatenate(ys) if label_key is not None else None
    return x, y
