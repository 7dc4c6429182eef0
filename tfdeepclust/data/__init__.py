"""Data layer: :func:`load_dataset` for benchmarks and user data, ``tf.data`` pipelines."""

from tfdeepclust.data.dataset import ClusteringData, DataError, DataNotFoundError
from tfdeepclust.data.loading import dataset_names, load_dataset, validate_data

__all__ = [
    "ClusteringData",
    "DataError",
    "DataNotFoundError",
    "dataset_names",
    "load_dataset",
    "validate_data",
]
