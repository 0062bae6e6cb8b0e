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
