"""A quiet console: TensorFlow's start-up logs off unless the user asked for them.

Importing TensorFlow prints ~10 lines before any of ours (oneDNN, CUDA stubs, CPU features,
``failed call to cuInit`` on CPU-only machines). Most are written by absl before its logging
is initialised, so ``TF_CPP_MIN_LOG_LEVEL`` does not reach them: the only way to hide them is
to catch file descriptor 2 while TensorFlow is imported and its devices are listed. Lines that
are not known start-up noise are written back, so a real import problem still shows.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

# Verbosity of the scripts and the API: 0 results only, 1 progress lines (default), 2 everything
# (Keras' line per epoch, every target refresh, TensorFlow's logs).
VERBOSE_LEVELS = (0, 1, 2)
DEFAULT_VERBOSE = 1
EVERYTHING = 2

# What TensorFlow prints at import and device discovery on a CPU-only machine.
_STARTUP_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IW]\d{4} "  # absl INFO / WARNING lines (oneDNN, cudart stub, cpu_feature_guard, ...)
    r"|E\d{4} .*(cuInit|cuda|CUDA)"  # no GPU driver: an ERROR line on every CPU-only machine
    r"|To enable the following instructions:"
    r"|\s*$)"
)


# Set beside TF_CPP_MIN_LOG_LEVEL when quiet_startup set it, so that a child process (which
# inherits both) does not take the level for the user's own choice.
_OUR_LEVEL = "TFDEEPCLUST_TF_CPP_MIN_LOG_LEVEL"


def verbose_from_argv(argv: list[str]) -> int:
    """The ``--verbose`` level on a command line (before it is parsed): a bare ``--verbose``
    means everything; absent, the default."""
    level = DEFAULT_VERBOSE
    for i, arg in enumerate(argv):
        if arg == "--verbose":
            nxt = argv[i + 1] if i + 1 < len(argv) else ""
            level = int(nxt) if nxt in {str(v) for v in VERBOSE_LEVELS} else EVERYTHING
        elif arg.startswith("--verbose="):
            value = arg.partition("=")[2]
            level = int(value) if value in {str(v) for v in VERBOSE_LEVELS} else EVERYTHING
    return level


def quiet_startup(verbose: int = DEFAULT_VERBOSE) -> None:
    """Imports TensorFlow with its start-up logs hidden, below verbosity 2.

    A no-op at verbosity 2, when TensorFlow is already imported (the logs are out), or when the
    user set ``TF_CPP_MIN_LOG_LEVEL`` (they chose what to see). Also lowers absl's Python
    logging (TFDS' informational warnings) to errors.
    """
    if verbose >= EVERYTHING or "tensorflow" in sys.modules:
        return
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    if level is not None and level != os.environ.get(_OUR_LEVEL):
        return  # the user's choice (ours, inherited by a child process, is not)
    # C++ INFO / WARNING after absl's initialisation; marked as ours for child processes.
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = os.environ[_OUR_LEVEL] = "2"
    captured = _import_tensorflow_capturing_stderr()
    kept = [line for line in captured.splitlines() if not _STARTUP_NOISE.match(line)]
    if kept:
        print("\n".join(kept), file=sys.stderr, flush=True)
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)


def _import_tensorflow_capturing_stderr() -> str:
    """Imports TensorFlow and lists its devices with fd 2 redirected; returns what was written.
    On an import error the text goes back to stderr before the error propagates."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as buf:
        os.dup2(buf.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # device discovery logs (cuInit) happen here
        except BaseException:
            os.dup2(saved, 2)
            buf.seek(0)
            sys.stderr.write(buf.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        buf.seek(0)
        return buf.read().decode(errors="replace")


__all__ = ["DEFAULT_VERBOSE", "EVERYTHING", "VERBOSE_LEVELS", "quiet_startup", "verbose_from_argv"]
