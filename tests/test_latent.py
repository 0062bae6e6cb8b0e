"""Latent walks: slerp against its closed form, walks that start and end at the samples
`generate` gives, vector arithmetic, and the CLI's PNG / GIF walks."""

import numpy as np
import pytest

import tfgans
from tfgans.latent import arithmetic, interpolation_grid, slerp
from tfgans.models import MLPDiscriminator, MLPGenerator


def test_slerp_closed_form():
    a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    path = slerp(a, b, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(path[0], a, atol=1e-7)
    np.testing.assert_allclose(path[2], b, atol=1e-7)
    np.testing.assert_allclose(path[1], [[np.sqrt(0.5), np.sqrt(0.5)]], atol=1e-7)  # on the circle
    rng = np.random.RandomState(0)
    u, v = rng.randn(3, 64), rng.randn(3, 64)
    v *= np.linalg.norm(u, axis=1, keepdims=True) / np.linalg.norm(v, axis=1, keepdims=True)
    norms = np.linalg.norm(slerp(u, v, np.linspace(0, 1, 7)), axis=-1)
    np.testing.assert_allclose(norms, np.broadcast_to(np.linalg.norm(u, axis=1), (7, 3)), rtol=1e-5)
    np.testing.assert_allclose(slerp(u[:1], 2 * u[:1], [0.5])[0], 1.5 * u[:1], rtol=1e-6)  # parallel


def gan(num_classes=None):
    return tfgans.GAN(MLPGenerator((4, 4, 1), latent_dim=6, hidden_units=(8,),
                                   num_classes=num_classes),
                      MLPDiscriminator(hidden_units=(8,), num_classes=num_classes),
                      latent_dim=6, num_classes=num_classes)


def test_walks_start_and_end_at_the_samples_of_the_seed():
    g = gan()
    images, columns = interpolation_grid(g, rows=2, steps=5, seed=3)
    assert images.shape == (10, 4, 4, 1) and columns == 5
    samples = g.generate(4, seed=3)
    np.testing.assert_allclose(images[[0, 4, 5, 9]], samples, atol=1e-5)
    assert not np.allclose(images[1], images[0])
    with pytest.raises(ValueError, match="`steps` must be at least 2"):
        interpolation_grid(g, rows=1, steps=1)


def test_conditional_walks_keep_each_rows_class_and_arithmetic():
    g = gan(num_classes=3)
    images, _ = interpolation_grid(g, rows=2, steps=3, seed=0, labels=[2, 1])
    np.testing.assert_allclose(images[0], g.generate(2, seed=0, labels=[2, 2])[0], atol=1e-5)
    np.testing.assert_allclose(images[5], g.generate(4, seed=0, labels=[1] * 4)[3], atol=1e-5)
    plain = gan()
    out, noise = arithmetic(plain, plus=[1], seed=5)  # nothing added or taken: sample 1
    np.testing.assert_allclose(out[3], plain.generate(2, seed=5)[1], atol=1e-5)
    out, noise = arithmetic(plain, plus=[0, 1], minus=[2], base=[3], seed=5)
    z = np.asarray(tfgans.training.sample_noise(4, 6, 5))
    np.testing.assert_allclose(noise, z[3] + z[:2].mean(0) - z[2], atol=1e-6)
    with pytest.raises(ValueError, match="`plus` must name at least one sample"):
        arithmetic(plain, plus=[])
