"""Improved precision and recall of a generative model (k-NN manifolds of features).

Reference: Kynkäänniemi et al., "Improved Precision and Recall Metric for Assessing
Generative Models", https://arxiv.org/abs/1904.06991
"""

import numpy as np

__all__ = ["knn_radii", "precision_recall"]

_BLOCK = 1024  # rows per block of the pairwise distance matrix (1024 x N float64)


def _squared_distances(x, y, y_norms):
    d = (x * x).sum(axis=1)[:, None] + y_norms[None, :] - 2.0 * (x @ y.T)
    return np.maximum(d, 0.0)


def knn_radii(features, k=3):
    """Squared distance from each row to its k-th nearest neighbour in the same set.

    The row itself (distance 0) is not counted as a neighbour. Memory is
    O(1024 * num_samples) float64: the distances are computed in blocks of rows.
    """
    x = np.asarray(features, np.float64)
    if len(x) <= k:
        raise ValueError(
            f"k-NN radii with `k={k}` need more than {k} samples. Received {len(x)}."
        )
    norms = (x * x).sum(axis=1)
    radii = np.empty(len(x))
    for start in range(0, len(x), _BLOCK):
        d = _squared_distances(x[start : start + _BLOCK], x, norms)
        radii[start : start + _BLOCK] = np.partition(d, k, axis=1)[:, k]  # [:, 0] is self
    return radii


def _fraction_inside(queries, reference, radii):
    """Fraction of `queries` within the radius of at least one `reference` row."""
    norms = (reference * reference).sum(axis=1)
    inside = 0
    for start in range(0, len(queries), _BLOCK):
        d = _squared_distances(queries[start : start + _BLOCK], reference, norms)
        inside += int(np.any(d <= radii[None, :], axis=1).sum())
    return inside / len(queries)


def precision_recall(real_features, fake_features, k=3):
    """Improved precision and recall (k-NN manifolds in feature space).

    Each set's manifold is the union of balls around its samples, each ball reaching the
    sample's k-th nearest neighbour within the set. Precision is the fraction of generated
    samples inside the real manifold (are the samples realistic?); recall is the fraction
    of real samples inside the generated manifold (is the data covered?). Distances are
    Euclidean, float64, computed in blocks so memory is O(1024 * num_samples).

    Args:
        real_features: array [num_real, dim].
        fake_features: array [num_fake, dim].
        k: neighbourhood size (3 in the paper).

    Returns:
        (precision, recall) as Python floats in [0, 1].

    Example:
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(1000, 8))
    >>> precision_recall(real, real)
    (1.0, 1.0)
    """
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(
            "precision/recall need two feature arrays [num_samples, dim] of the same dim. "
            f"Received shapes {real.shape} and {fake.shape}."
        )
    precision = _fraction_inside(fake, real, knn_radii(real, k))
    recall = _fraction_inside(real, fake, knn_radii(fake, k))
    return precision, recall
