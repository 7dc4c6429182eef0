"""The DEC clustering layer: Student-t soft assignment to trainable centroids."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def student_t_assignment(z, centroids, alpha: float = 1.0):
    """Soft assignment q_ij of embeddings to centroids (docs/methods.md §1.1; ASC2D Eq. 3 = D1).

    q_ij ∝ (1 + ||z_i - mu_j||² / alpha)^(-(alpha + 1) / 2), normalised over clusters j.
    Distances are computed by broadcasting (the expanded ||z||² - 2 z·mu + ||mu||² form can go
    negative by cancellation).

    Args:
        z: Embeddings ``[B, d]``.
        centroids: ``[K, d]``.
        alpha: Degrees of freedom of the Student-t kernel (1 in DEC and all three papers).

    Returns:
        ``[B, K]`` rows summing to 1.
    """
    d2 = ops.sum(ops.square(ops.expand_dims(z, 1) - ops.expand_dims(centroids, 0)), axis=-1)
    # Computed in log space so huge distances underflow gracefully instead of producing 0/0.
    logits = -(alpha + 1.0) / 2.0 * ops.log1p(d2 / alpha)
    return ops.softmax(logits, axis=-1)


@keras.saving.register_keras_serializable(package="tfdeepclust")
class ClusteringLayer(keras.layers.Layer):
    """Maps embeddings ``[B, d]`` to soft cluster assignments ``[B, K]`` (DEC's clustering layer).

    The centroids are a trainable ``[K, d]`` weight, overwritten by k-means after pretraining.

    Args:
        n_clusters: Number of clusters K.
        alpha: Student-t degrees of freedom.
    """

    def __init__(self, n_clusters: int, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.n_clusters = int(n_clusters)
        self.alpha = float(alpha)

    def build(self, input_shape):
        self.centroids = self.add_weight(
            name="centroids",
            shape=(self.n_clusters, int(input_shape[-1])),
            initializer="glorot_uniform",
            trainable=True,
        )

    def call(self, z):
        return student_t_assignment(z, self.centroids, self.alpha)

    def set_centroids(self, centers: np.ndarray) -> None:
        """Overwrites the centroids (e.g. with k-means centres)."""
        self.centroids.assign(np.asarray(centers, dtype=self.centroids.dtype))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def get_config(self):
        return {**super().get_config(), "n_clusters": self.n_clusters, "alpha": self.alpha}
