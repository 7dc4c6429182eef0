"""Data layer: :func:`load_dataset` for benchmarks and user files, :func:`from_arrays` for
in-memory arrays and ``tf.data`` datasets, and the training pipelines."""

from tfdeepclust.data.dataset import ClusteringData, DataError, DataNotFoundError
from tfdeepclust.data.loading import dataset_names, from_arrays, load_dataset, validate_data

__all__ = [
    "ClusteringData",
    "DataError",
    "DataNotFoundError",
    "dataset_names",
    "from_arrays",
    "load_dataset",
    "validate_data",
]
