"""Train ADEC (not implemented yet: tracked in issue #5).

The shared machinery (data layer, options, results JSON, export) is in place; the method itself
lands with issue #5. Until then this script says so and exits with status 2.
"""

import sys

if __name__ == "__main__":
    print(
        "error: ADEC is not implemented yet (issue #5). Available now: python train_asc2d.py "
        "--help",
        file=sys.stderr,
    )
    sys.exit(2)
