"""A TFDS builder for USPS (not in the TFDS catalogue) over the packaged ``usps.npz``.

The packaged file holds the standard 7,291 + 2,007 split as float32 16x16 images in [0, 1]
(2001 grey levels, = Keysers' ``.jf`` / 2). The values are stored as float32 tensors: quantising
to uint8 would lose levels (docs/methods.md §1.7).
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from tfdeepclust.data.resources import packaged_file

_CITATION = """@article{hull1994usps,
  title={A database for handwritten text recognition research},
  author={Hull, Jonathan J.}, journal={IEEE TPAMI}, volume={16}, number={5}, year={1994}}"""


class Usps(tfds.core.GeneratorBasedBuilder):
    """USPS handwritten digits, 16x16 grey levels in [0, 1], train 7,291 / test 2,007."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Standard 9,298-image USPS split, packaged with tfdeepclust."}

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description="USPS digits (Hull 1994) as redistributed with ESL; values (v+1)/2.",
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Tensor(shape=(16, 16, 1), dtype=np.float32),
                    "label": tfds.features.ClassLabel(num_classes=10),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://hastie.su.domains/ElemStatLearn/data.html",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # the data ships with the package: nothing to download
        with np.load(packaged_file("usps.npz"), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        return {
            "train": self._generate_examples(arrays["x_train"], arrays["y_train"]),
            "test": self._generate_examples(arrays["x_test"], arrays["y_test"]),
        }

    def _generate_examples(self, x: np.ndarray, y: np.ndarray):
        for i in range(len(x)):
            yield i, {"image": x[i][..., None].astype(np.float32), "label": int(y[i])}
