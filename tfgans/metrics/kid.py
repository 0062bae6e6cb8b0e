"""Kernel Inception Distance (KID): unbiased MMD^2 with a cubic polynomial kernel.

Reference: Bińkowski et al., "Demystifying MMD GANs", https://arxiv.org/abs/1801.01401
"""

import numpy as np

__all__ = ["kernel_inception_distance", "polynomial_kernel"]


def polynomial_kernel(x, y):
    """`k(x, y) = (x . y / dim + 1)^3` for all pairs of rows, in float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _unbiased_mmd2(x, y):
    n = x.shape[0]
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    same = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return same - 2.0 * k_xy.mean()


def kernel_inception_distance(
    features_a, features_b, subset_size=1000, num_subsets=100, seed=0
):
    """KID between two sets of features: mean and std of MMD^2 over random subsets.

    Each of `num_subsets` draws takes `subset_size` rows of each set without replacement
    (seeded by `seed`) and computes the unbiased MMD^2 estimate

        mmd2 = [sum_{i != j} k(a_i, a_j) + sum_{i != j} k(b_i, b_j)] / (n (n - 1))
               - 2 mean_{i, j} k(a_i, b_j),

    with `k(x, y) = (x . y / dim + 1)^3`. The estimate is unbiased: its expectation is 0
    when both sets come from one distribution (single subsets can be negative).

    Args:
        features_a, features_b: arrays [num_a, dim], [num_b, dim].
        subset_size: rows per subset; both sets need at least this many.
        num_subsets: number of subsets.
        seed: seed of the subset draws.

    Returns:
        (mean, std) over subsets, as Python floats.

    Raises:
        ValueError: a set has fewer than `subset_size` rows, or the shapes disagree.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(500, 16)), rng.normal(1.0, size=(500, 16))
    >>> kid, kid_std = kernel_inception_distance(a, b, subset_size=200, num_subsets=10)
    >>> kid > 10 * kid_std
    True
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            "KID needs two feature arrays [num_samples, dim] of the same dim. Received "
            f"shapes {a.shape} and {b.shape}."
        )
    if subset_size < 2 or num_subsets < 1:
        raise ValueError(
            "KID needs `subset_size >= 2` and `num_subsets >= 1`. Received "
            f"`subset_size={subset_size}`, `num_subsets={num_subsets}`."
        )
    if min(len(a), len(b)) < subset_size:
        raise ValueError(
            f"KID needs at least `subset_size={subset_size}` samples in each set, received "
            f"{len(a)} and {len(b)}: pass more samples or a smaller `subset_size`."
        )
    rng = np.random.default_rng(seed)
    values = np.array(
        [
            _unbiased_mmd2(
                a[rng.choice(len(a), subset_size, replace=False)],
                b[rng.choice(len(b), subset_size, replace=False)],
            )
            for _ in range(num_subsets)
        ]
    )
    return float(values.mean()), float(values.std())
