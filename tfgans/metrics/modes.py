"""2-D mixtures of Gaussians (ring, grid) and the mode-collapse metrics measured on them.

The toy problem of the unrolled-GAN paper (a ring of 8 Gaussians) and its grid variant:
a generator that collapses covers few modes; one that blurs puts few samples near any.
The metrics follow the 2-D experiments of VEEGAN and PacGAN, with the rule stated here:
a generated point is *high quality* if it lies within 3 standard deviations of its nearest
mode, and a mode is *covered* if at least `min_count` high-quality points have it as their
nearest mode (default 20 for 2,500 samples, PacGAN's count).

    centers = ring_of_gaussians_centers()                     # 8 modes, radius 2
    real = sample_mixture(centers, std=0.02, num_samples=2500, seed=0)
    modes, high_quality_rate = mode_coverage(generated, centers, std=0.02)

All of it is NumPy (float64 math), outside the training step; the pipeline turns samples
into a `tf.data` dataset of `points` [batch, 2].

References: Metz et al., "Unrolled Generative Adversarial Networks",
https://arxiv.org/abs/1611.02163; Srivastava et al., "VEEGAN",
https://arxiv.org/abs/1705.07761; Lin et al., "PacGAN", https://arxiv.org/abs/1712.04086
"""

from typing import NamedTuple

import numpy as np

__all__ = [
    "ModeCoverage",
    "grid_of_gaussians_centers",
    "mode_counts",
    "mode_coverage",
    "ring_of_gaussians_centers",
    "sample_mixture",
]


def _check_positive(name, value):
    if not value > 0:
        raise ValueError(f"`{name}` must be positive. Received: {name}={value!r}")


def ring_of_gaussians_centers(num_modes=8, radius=2.0):
    """Centres evenly spaced on a circle: `radius * (cos(2 pi k / n), sin(2 pi k / n))`.

    Args:
        num_modes: the number of modes n (8 in the unrolled-GAN paper).
        radius: the circle's radius (2 in the paper; its std is 0.02).

    Returns:
        float64 array [num_modes, 2]; the first centre is (radius, 0).
    """
    if int(num_modes) != num_modes or num_modes < 1:
        raise ValueError(
            f"`num_modes` must be a positive integer. Received: num_modes={num_modes!r}"
        )
    _check_positive("radius", radius)
    angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_of_gaussians_centers(num_per_side=5, spacing=2.0):
    """Centres on a square grid centred at the origin (5 x 5, spacing 2: -4, -2, ..., 4).

    Args:
        num_per_side: modes per row and per column.
        spacing: the distance between neighbouring modes.

    Returns:
        float64 array [num_per_side ** 2, 2], row by row (y outer, x inner).
    """
    if int(num_per_side) != num_per_side or num_per_side < 1:
        raise ValueError(
            f"`num_per_side` must be a positive integer. Received: num_per_side={num_per_side!r}"
        )
    _check_positive("spacing", spacing)
    axis = (np.arange(num_per_side) - (num_per_side - 1) / 2.0) * spacing
    y, x = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([x.ravel(), y.ravel()], axis=1)


def sample_mixture(centers, std, num_samples, seed, return_modes=False):
    """Samples an equal-weight mixture of isotropic Gaussians, reproducibly from `seed`.

    Each point picks a mode uniformly, then adds `std * N(0, I)`; the same arguments give
    the same points (NumPy's `default_rng(seed)`).

    Args:
        centers: array [num_modes, dim] (from `ring_of_gaussians_centers`, ...).
        std: the standard deviation of every component.
        num_samples: how many points.
        seed: an int seed.
        return_modes: also return the mode index of each point.

    Returns:
        float32 array [num_samples, dim] (the `points` batch convention), and int64
        [num_samples] mode indices if `return_modes`.
    """
    centers = np.asarray(centers, np.float64)
    if centers.ndim != 2 or len(centers) == 0:
        raise ValueError(f"`centers` must be [num_modes, dim]. Received shape {centers.shape}")
    _check_positive("std", std)
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, len(centers), size=num_samples)
    points = (centers[modes] + std * rng.standard_normal((num_samples, centers.shape[1])))
    points = points.astype(np.float32)
    return (points, modes) if return_modes else points


def _nearest(points, centers):
    points = np.asarray(points, np.float64)
    centers = np.asarray(centers, np.float64)
    if points.ndim != 2 or centers.ndim != 2 or points.shape[1] != centers.shape[1]:
        raise ValueError(
            "`points` and `centers` must be [n, dim] and [num_modes, dim] with the same dim. "
            f"Received shapes {points.shape} and {centers.shape}"
        )
    distances = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=-1)
    nearest = np.argmin(distances, axis=1)
    return nearest, distances[np.arange(len(points)), nearest]


def mode_counts(points, centers, std, num_std=3.0):
    """The number of high-quality points nearest each mode.

    A point is high quality if its Euclidean distance to its nearest centre is at most
    `num_std * std`.

    Returns:
        int64 array [num_modes].
    """
    _check_positive("std", std)
    nearest, distance = _nearest(points, centers)
    good = distance <= num_std * std
    return np.bincount(nearest[good], minlength=len(centers))


class ModeCoverage(NamedTuple):
    """`modes`: how many modes are covered; `high_quality_rate`: the fraction of points
    within `num_std` standard deviations of their nearest mode."""

    modes: int
    high_quality_rate: float


def mode_coverage(points, centers, std, min_count=20, num_std=3.0):
    """Modes covered and the rate of high-quality samples (2-D mode-collapse metrics).

    A point is high quality if it lies within `num_std * std` (3 standard deviations) of
    its nearest mode; a mode is covered if at least `min_count` high-quality points are
    nearest to it. For the true mixture in 2-D, the high-quality rate is the chance that a
    2-D standard normal lies within 3 of the origin, `1 - exp(-9 / 2) = 0.9889`.

    Args:
        points: generated points [n, dim].
        centers: the mixture's modes [num_modes, dim].
        std: the mixture's standard deviation (0.02 for the ring, 0.05 for the grid).
        min_count: high-quality points a mode needs to count as covered (PacGAN: 20 of
            2,500 samples; scale it with n).
        num_std: the high-quality radius in standard deviations.

    Returns:
        `ModeCoverage(modes, high_quality_rate)`.

    Reference: https://arxiv.org/abs/1705.07761 (VEEGAN),
    https://arxiv.org/abs/1712.04086 (PacGAN)
    """
    if int(min_count) != min_count or min_count < 1:
        raise ValueError(
            f"`min_count` must be a positive integer. Received: min_count={min_count!r}"
        )
    counts = mode_counts(points, centers, std, num_std)
    num_points = len(np.asarray(points))
    rate = float(counts.sum() / num_points) if num_points else 0.0
    return ModeCoverage(int(np.sum(counts >= min_count)), rate)
