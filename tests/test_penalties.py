"""Penalties against closed forms: a linear discriminator's input gradient is its weights."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from tfgans import penalties


def test_gradient_norm_penalty_closed_form():
    # Rows with norms 2 and 0.5: ((2 - 1)^2 + (0.5 - 1)^2) / 2 = 0.625.
    g = np.array([[2.0, 0.0], [0.0, 0.5]])
    assert float(penalties.gradient_norm_penalty(g, epsilon=0.0)) == pytest.approx(0.625)
    # One-sided: only the norm above the target counts.
    assert float(penalties.gradient_norm_penalty(g, one_sided=True, epsilon=0.0)) == pytest.approx(0.5)
    # Target 2: (2/2 - 1)^2 and (0.5/2 - 1)^2.
    assert float(penalties.gradient_norm_penalty(g, target=2.0, epsilon=0.0)) == pytest.approx(
        (0 + 0.75**2) / 2
    )


def test_r1_closed_form():
    g = np.array([[3.0, 4.0], [0.0, 1.0]])  # |g|^2 = 25 and 1
    assert float(penalties.r1_penalty(g, gamma=10.0)) == pytest.approx(10.0 / 2 * 13.0)


def test_interpolate_and_perturb():
    real, fake = np.zeros((2, 3), "float32"), np.ones((2, 3), "float32")
    x = penalties.interpolate(real, fake, np.array([0.25, 1.0], "float32"))
    np.testing.assert_allclose(x, [[0.25] * 3, [1.0] * 3])
    p = penalties.dragan_perturb(real, np.full((2, 3), 0.5, "float32"), batch_std=2.0)
    np.testing.assert_allclose(p, np.full((2, 3), 0.5))


def test_clip_weights():
    v = keras.Variable(np.array([-3.0, 0.1, 2.0]))
    penalties.clip_weights([v], 0.5)
    np.testing.assert_allclose(v.numpy(), [-0.5, 0.1, 0.5])


def test_penalty_config_validation():
    with pytest.raises(ValueError, match="Unknown penalty type 'gp'"):
        penalties.PenaltyConfig(type="gp")
    with pytest.raises(ValueError, match="weight"):
        penalties.PenaltyConfig(weight=-1.0)


@pytest.mark.parametrize("penalty_type", ["wgan_gp", "dragan", "r1"])
def test_trainer_penalty_on_linear_discriminator(penalty_type):
    """Through the GAN trainer: D(x) = <w, x> has input gradient w everywhere, so the
    penalty is (|w| - 1)^2 (WGAN-GP, DRAGAN) or |w|^2 / 2 (R1) whatever the points."""
    import tfgans

    gen = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(4)])
    disc = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(1, use_bias=False)])
    w = np.array([[1.0], [2.0], [2.0], [0.0]], "float32")  # |w| = 3
    disc.set_weights([w])
    gan = tfgans.GAN(gen, disc, latent_dim=3)
    gan.compile(
        keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), loss="hinge",
        gradient_penalty=1.0, penalty_type=penalty_type,
    )
    real = tf.random.normal([8, 4])
    logs = gan.train_on_batch(real, return_dict=True)
    expected = 4.5 if penalty_type == "r1" else (np.sqrt(9 + 1e-10) - 1) ** 2
    assert logs["penalty"] == pytest.approx(expected, rel=1e-5)
