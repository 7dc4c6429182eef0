"""The training scripts' entry point: options in, a run or a sweep, an exit code out.

Exit codes: 0 done, 2 bad input or options (the message names the fix), 3 training diverged,
75 stopped by ``--time-limit`` (rerun the same command to continue).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tfdeepclust.runner import Recipe


def main(recipe: Recipe | str, argv: list[str] | None = None) -> int:
    """Entry point of ``train_<method>.py``; returns the process exit code.

    ``recipe`` may be the method's name: TensorFlow is then imported with its start-up logs
    hidden (below ``--verbose 2``) before the recipe imports it.
    """
    if isinstance(recipe, str):
        from tfdeepclust.api import get_recipe
        from tfdeepclust.console import quiet_startup, verbose_from_argv

        quiet_startup(verbose_from_argv(sys.argv[1:] if argv is None else argv))
        recipe = get_recipe(recipe)
    # Imported here, after quiet_startup: they import TensorFlow.
    from tfdeepclust.cli import parse_args, recipe_parser, tune_options
    from tfdeepclust.runner import run

    parser = recipe_parser(recipe)
    ns = parser.parse_args(argv)
    common, cfg = parse_args(parser, recipe.config_cls, ns)
    opts = tune_options(ns)
    from tfdeepclust.data.dataset import DataError
    from tfdeepclust.distribute import StrategyError
    from tfdeepclust.training.divergence import TrainingDivergedError
    from tfdeepclust.training.time_limit import EXIT_TIME_LIMIT, TimeLimitReached
    from tfdeepclust.validation import check_options

    if opts is not None:
        try:
            check_options(common, cfg)
            opts.validate(recipe.name)
            if common.strategy != "default":
                raise ValueError(
                    "--tune runs its trials with the default strategy; drop --strategy (or "
                    "tune on one device and train the best settings with --strategy)."
                )
            if common.time_limit is not None:
                raise ValueError(
                    "--time-limit applies to single runs; a sweep is bounded by --max-trials "
                    "and resumes where it stopped when rerun."
                )
        except ValueError as e:
            print(f"error: {e}")
            return 2
    try:
        if opts is None:
            res = run(recipe, common, cfg)
            if res["convergence"].get("stop_reason") == "time_limit":
                return EXIT_TIME_LIMIT
        else:
            from tfdeepclust.tuning import tune

            tune(recipe, common, cfg, opts)
    except (DataError, FileNotFoundError, FileExistsError, StrategyError) as e:
        print(f"error: {e}")
        return 2
    except TrainingDivergedError as e:
        print(f"error: {e}")
        return 3
    except TimeLimitReached as e:
        print(f"stopped: {e}")
        return EXIT_TIME_LIMIT
    except ValueError as e:
        # Bad option values (e.g. --augment flip) are checked where they are used and raise
        # ValueError; the message names the valid values, a traceback adds nothing for a user.
        if os.environ.get("TFDEEPCLUST_TRACEBACK"):
            raise
        print(f"error: {e}\n(set TFDEEPCLUST_TRACEBACK=1 to see where it was raised)")
        return 2
    return 0


__all__ = ["main"]
