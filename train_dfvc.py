"""Train DFVC and export it for TF Serving.

With no arguments: a short run on the USPS set embedded in the package. ``--dataset mnist
--data-dir ../shared/data --budget paper`` is the Table III setting (100 epochs; far beyond a
2-core CPU, see benchmarks/RESULTS.md); ``--quick`` a smoke run.
``python train_dfvc.py --help`` lists every option.
"""

import sys

from tfdeepclust.entry import main

if __name__ == "__main__":
    sys.exit(main("dfvc"))
