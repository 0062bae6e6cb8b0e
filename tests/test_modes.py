"""2-D mixtures and the mode-coverage metrics, on points whose answer is known by hand."""

import math

import numpy as np
import pytest

from tfgans.metrics import modes


def test_ring_centers():
    centers = modes.ring_of_gaussians_centers(num_modes=4, radius=2.0)
    np.testing.assert_allclose(centers, [[2, 0], [0, 2], [-2, 0], [0, -2]], atol=1e-12)
    ring = modes.ring_of_gaussians_centers()
    assert ring.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0)
    np.testing.assert_allclose(ring[1], [math.sqrt(2), math.sqrt(2)])  # 45 degrees
    with pytest.raises(ValueError, match="num_modes=0"):
        modes.ring_of_gaussians_centers(num_modes=0)


def test_grid_centers():
    grid = modes.grid_of_gaussians_centers()
    assert grid.shape == (25, 2)
    np.testing.assert_allclose(grid[:6], [[-4, -4], [-2, -4], [0, -4], [2, -4], [4, -4], [-4, -2]])
    np.testing.assert_allclose(grid[12], [0, 0])
    small = modes.grid_of_gaussians_centers(2, 1.0)
    np.testing.assert_allclose(small, [[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]])


def test_sample_mixture_is_seeded_and_near_its_modes():
    centers = modes.ring_of_gaussians_centers()
    a, ids = modes.sample_mixture(centers, std=0.02, num_samples=4000, seed=3, return_modes=True)
    b = modes.sample_mixture(centers, std=0.02, num_samples=4000, seed=3)
    c = modes.sample_mixture(centers, std=0.02, num_samples=4000, seed=4)
    assert a.dtype == np.float32 and a.shape == (4000, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_allclose(np.bincount(ids, minlength=8) / 4000, 1 / 8, atol=0.02)
    offsets = a - centers[ids]
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=0.002)
    np.testing.assert_allclose(offsets.std(axis=0), 0.02, rtol=0.05)


def test_true_mixture_covers_all_modes_at_the_chi2_rate():
    # A 2-D standard normal lies within radius 3 with probability 1 - exp(-9/2) = 0.98889.
    centers = modes.ring_of_gaussians_centers()
    points = modes.sample_mixture(centers, std=0.02, num_samples=20_000, seed=0)
    result = modes.mode_coverage(points, centers, std=0.02)
    assert result.modes == 8
    assert abs(result.high_quality_rate - (1 - math.exp(-4.5))) < 0.003  # ~4 binomial stds


def test_only_three_modes_covered():
    centers = modes.grid_of_gaussians_centers()  # 25 modes, std 0.05 -> radius 0.15
    points = np.concatenate([
        np.tile(centers[0] + [0.1, 0.0], (30, 1)),  # inside the radius: counts
        np.tile(centers[7] - [0.0, 0.14], (25, 1)),
        np.tile(centers[24], (20, 1)),  # exactly min_count
        np.tile(centers[12] + [0.1, 0.0], (19, 1)),  # one short of min_count
        np.tile(centers[3] + [0.2, 0.0], (40, 1)),  # nearest mode 3 but beyond 3 std
    ])
    counts = modes.mode_counts(points, centers, std=0.05)
    expected = np.zeros(25, int)
    expected[[0, 7, 24, 12]] = [30, 25, 20, 19]
    np.testing.assert_array_equal(counts, expected)
    result = modes.mode_coverage(points, centers, std=0.05)
    assert result == (3, (30 + 25 + 20 + 19) / 134)
    assert modes.mode_coverage(points, centers, std=0.05, min_count=1).modes == 4


def test_far_away_points_are_not_high_quality():
    centers = modes.ring_of_gaussians_centers()
    far = np.array([[0.0, 0.0], [10.0, 10.0], [2.0 + 3.01 * 0.02, 0.0], [1.0, 1.0]])
    assert modes.mode_coverage(far, centers, std=0.02, min_count=1) == (0, 0.0)
    # Just inside 3 std of the first mode: 1 point of 5 is high quality.
    near = np.concatenate([far, [[2.0 + 2.99 * 0.02, 0.0]]])
    assert modes.mode_coverage(near, centers, std=0.02, min_count=1) == (1, 0.2)


def test_bad_arguments_name_themselves():
    centers = modes.ring_of_gaussians_centers()
    with pytest.raises(ValueError, match="std=0"):
        modes.mode_coverage(np.zeros((3, 2)), centers, std=0)
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        modes.mode_coverage(np.zeros((3, 3)), centers, std=0.02)
    with pytest.raises(ValueError, match="min_count=0"):
        modes.mode_coverage(np.zeros((3, 2)), centers, std=0.02, min_count=0)
