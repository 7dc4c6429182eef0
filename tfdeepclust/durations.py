"""Time limits' units, without TensorFlow (job scripts and benchmark drivers import it).

Durations are written as the ``--time-limit`` option takes them: ``5400``, ``90m``, ``1.5h``,
``2h30m``.
"""

from __future__ import annotations

import re

# The exit code of a run stopped by its time limit: EX_TEMPFAIL ("try again later"), so a job
# script can tell "rerun to continue" from success (0) and from errors (2, 3).
EXIT_TIME_LIMIT = 75

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)")


def parse_duration(text: str | float | int) -> float:
    """Seconds in a duration such as ``5400``, ``90m``, ``1.5h`` or ``2h30m``.

    Raises:
        ValueError: The text is not a positive duration.
    """
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        s = text.strip().lower().replace(" ", "")
        parts = _PART.findall(s)
        # "1h30" could mean 30 s or 30 min: a bare number is only accepted on its own.
        bare = len(parts) > 1 and any(u == "" for _, u in parts)
        if not s or bare or "".join(f"{n}{u}" for n, u in parts) != s:
            raise ValueError(
                f"--time-limit {text!r} is not a duration: give seconds (5400) or a number with "
                "a unit s, m, h or d, e.g. 90m, 1.5h or 2h30m."
            )
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not seconds > 0:
        raise ValueError(f"--time-limit must be positive, got {text!r}.")
    return seconds


# A job given less than this would stop before it saved anything new.
MIN_JOB_SECONDS = 120


def run_before_deadline(cmd: list[str], deadline: float | None, cwd=None) -> int:
    """Runs a training command with ``--time-limit`` set to what is left before ``deadline``.

    For drivers that run several jobs under one time limit (benchmark sweeps): each job gets the
    time left, and stops at a saved point from which the same command continues.

    Args:
        cmd: The command; ``--time-limit`` is appended when there is a deadline.
        deadline: ``time.time()`` by which every job must have stopped, or None for no limit.
        cwd: Working directory of the job.

    Returns:
        The job's exit code, or :data:`EXIT_TIME_LIMIT` without running it when less than
        :data:`MIN_JOB_SECONDS` are left.
    """
    import subprocess
    import time

    if deadline is not None:
        left = int(deadline - time.time())
        if left < MIN_JOB_SECONDS:
            print("time is up: rerun this command to continue", flush=True)
            return EXIT_TIME_LIMIT
        cmd = [*cmd, "--time-limit", str(left)]
    return subprocess.run(cmd, cwd=cwd).returncode
