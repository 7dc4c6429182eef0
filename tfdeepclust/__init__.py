"""tfdeepclust: Keras 3 reference implementations of ASC2D, ADEC and DFVC deep clustering.

Importing the package is cheap: TensorFlow is imported by the submodules that need it, so
command-line ``--help`` stays fast.
"""

__version__ = "0.1.0"
