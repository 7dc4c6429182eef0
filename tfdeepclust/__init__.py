"""tfdeepclust: Keras 3 reference implementations of ASC2D, ADEC and DFVC deep clustering.

Importing the package is cheap: TensorFlow is imported by the submodules that need it, so
command-line ``--help`` stays fast. ``tfdeepclust.train`` and the scikit-learn estimators
(``tfdeepclust.ASC2D``, ``ADEC``, ``DEC``, ``IDEC``, ``DFVC``) load on first use.
"""

__version__ = "0.1.0"

_ESTIMATORS = ("ASC2D", "ADEC", "DEC", "IDEC", "DFVC")


def __getattr__(name: str):
    # Without importing TensorFlow at package import.
    if name == "train":
        from tfdeepclust.api import train

        return train
    if name in _ESTIMATORS:
        from tfdeepclust import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'tfdeepclust' has no attribute {name!r}")
