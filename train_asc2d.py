"""Train ASC2D and export it for TF Serving.

With no arguments: the README quickstart on the USPS set embedded in the package (a few minutes
on 2 CPU cores). ``--budget paper`` runs the reproduction budget; ``--quick`` a smoke run.
``python train_asc2d.py --help`` lists every option.
"""

import sys

from tfdeepclust.entry import main

if __name__ == "__main__":
    sys.exit(main("asc2d"))
