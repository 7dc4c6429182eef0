"""tfdeepclust: Keras 3 reference implementations of ASC2D, ADEC and DFVC deep clustering.

Importing the package is cheap: TensorFlow is imported by the submodules that need it, so
command-line ``--help`` stays fast.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    # ``tfdeepclust.train`` without importing TensorFlow at package import.
    if name == "train":
        from tfdeepclust.api import train

        return train
    raise AttributeError(f"module 'tfdeepclust' has no attribute {name!r}")
