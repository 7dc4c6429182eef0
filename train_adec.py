"""Train ADEC (or its DEC* / IDEC* baselines with --mode dec | idec) and export it.

``python train_adec.py --help`` lists every option; ``--quick`` is a smoke run; ``--budget paper``
pretrains 130k ACAI iterations on images (5k on Mice Protein, 1k on Reuters-10K). Works on images
and tabular data (``--dataset mice_protein``, ``--dataset csv:PATH``).
"""

import sys

from tfdeepclust.entry import main

if __name__ == "__main__":
    sys.exit(main("adec"))
