"""Train DFVC (not implemented yet: tracked in issue #6).

The shared machinery (data layer, options, results JSON, export) is in place; the method itself
lands with issue #6. Until then this script says so and exits with status 2.
"""

import sys

if __name__ == "__main__":
    print(
        "error: DFVC is not implemented yet (issue #6). Available now: python train_asc2d.py "
        "--help",
        file=sys.stderr,
    )
    sys.exit(2)
