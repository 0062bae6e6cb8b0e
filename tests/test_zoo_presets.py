"""The zoo's presets (issue 13): sngan, sagan, biggan from Python and from their configs,
the networks' own losses in the GAN's steps, the truncation trick (generate, CLI, export)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
import tfgans.models
from tfgans.training.gan import network_losses

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------ the networks' own losses


class WithRegularizedWeight(keras.Model):
    """`net`, plus a weight `w` with an L2(`c`) regularizer that the output ignores
    (times 0): only the regularizer moves it."""

    def __init__(self, net, c, **kwargs):
        super().__init__(**kwargs)
        self.net = net
        self.w = self.add_weight(
            shape=(3,), initializer=keras.initializers.Constant([1.0, -2.0, 4.0]),
            regularizer=keras.regularizers.L2(c), name="w",
        )

    def call(self, inputs, training=None):
        return self.net(inputs, training=training) + 0.0 * keras.ops.sum(self.w)


def test_network_losses_enter_each_networks_loss():
    """SGD on L2(c) alone: w <- w - lr * 2c w, once per update (D: n_critic = 2 updates)."""
    generator, discriminator = tfgans.models.get("mlp")((4, 4, 1), 3, hidden_units=(4,))
    g = WithRegularizedWeight(generator, c=0.25)
    d = WithRegularizedWeight(discriminator, c=0.5)
    assert float(network_losses(g)) == pytest.approx(0.25 * 21.0)  # hand: c * sum(w^2)
    gan = tfgans.GAN(g, d, latent_dim=3)
    gan.compile(generator_optimizer=keras.optimizers.SGD(0.1),
                discriminator_optimizer=keras.optimizers.SGD(0.1),
                loss="hinge", n_critic=2, run_eagerly=False)
    gan.fit(np.zeros((4, 4, 4, 1), np.float32), batch_size=4, epochs=1, verbose=0)
    w0 = np.array([1.0, -2.0, 4.0])
    np.testing.assert_allclose(g.w.numpy(), w0 * (1 - 0.1 * 2 * 0.25), rtol=1e-6)
    np.testing.assert_allclose(d.w.numpy(), w0 * (1 - 0.1 * 2 * 0.5) ** 2, rtol=1e-6)


def test_biggan_orthogonal_regularization_is_in_generator_losses():
    with_reg, _ = tfgans.models.get("biggan")((28, 28, 1), 16, width=4, embedding_dim=4)
    without, _ = tfgans.models.get("biggan")((28, 28, 1), 16, width=4, embedding_dim=4,
                                             orthogonal_regularization=0.0)
    for g in (with_reg, without):
        g(keras.random.normal((2, 16)))
    assert float(network_losses(with_reg)) > 0.0
    assert float(network_losses(without)) == 0.0


# ------------------------------------------------------------------- the truncation trick


def truncated_variance(t):
    """Variance of a standard normal truncated to [-t, t] (hand formula):
    1 - 2 t phi(t) / (2 Phi(t) - 1)."""
    from math import erf, exp, pi, sqrt

    return 1.0 - 2.0 * t * exp(-t * t / 2) / sqrt(2 * pi) / erf(t / sqrt(2))


def test_truncated_noise_lies_inside_and_has_the_truncated_variance():
    from tfgans.training import sample_noise

    for t in (0.25, 0.5, 1.0, 2.0):
        z = sample_noise(4000, 16, seed=1, truncation=t).numpy()
        assert np.abs(z).max() <= t
        assert z.var() == pytest.approx(truncated_variance(t), rel=0.03)
        assert abs(z.mean()) < 0.02 * t
        # Row i depends on (seed, i) alone, and the seed matters.
        np.testing.assert_array_equal(sample_noise(3, 16, seed=1, truncation=t), z[:3])
    assert not np.allclose(sample_noise(3, 16, 1, 0.5), sample_noise(3, 16, 2, 0.5))


def test_sample_variance_falls_as_the_threshold_tightens():
    generator, discriminator = tfgans.models.get("biggan")(
        (28, 28, 1), 16, num_classes=10, width=4, embedding_dim=4)
    gan = tfgans.GAN(generator, discriminator, latent_dim=16, num_classes=10)
    labels = np.zeros(64, np.int32)

    def variance(truncation):
        images = gan.generate(64, seed=0, labels=labels, truncation=truncation)
        return float(images.var(axis=0).mean())  # across samples, per pixel

    variances = [variance(t) for t in (None, 1.0, 0.5, 0.1)]
    assert variances == sorted(variances, reverse=True), variances
    assert variances[-1] < 0.2 * variances[0], variances
    for bad in (0, -1.0, float("nan"), "0.5", True):
        with pytest.raises(ValueError, match="`truncation` must be None or a number > 0"):
            gan.generate(2, truncation=bad)
