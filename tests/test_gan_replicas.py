"""The GAN trainer on two replicas (MirroredStrategy over two logical CPUs): equal to one
replica for every loss and for synchronised conditional batch norm, XLA refused early, and
per-replica noise. Its own pytest process (see the Makefile): several strategies in one
process clash on collective keys."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
from tfgans.models import DCGANDiscriminator, DCGANGenerator

from test_gan import fashion_batches, mlp_gan, ring_of_gaussians


# --- distribution: 1 replica == 2 replicas ------------------------------------------------


def _train_two_steps(strategy, builder, loss, data, ref_weights, **compile_kw):
    with strategy.scope():
        gan = builder()
        gan.set_weights(ref_weights)
        gan.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05), loss=loss, **compile_kw)
    gan.fit(data, epochs=1, verbose=0)
    return gan.get_weights()


@pytest.mark.parametrize("loss", sorted(tfgans.losses.LOSSES.names()))
def test_two_replicas_equal_one_replica(mirrored, loss):
    x = ring_of_gaussians(32, seed=1)
    data = tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True)  # 2 steps
    keras.utils.set_random_seed(0)
    ref = mlp_gan(hidden=16).get_weights()
    build = lambda: mlp_gan(hidden=16)  # noqa: E731
    kw = dict(gradient_penalty=1.0, n_critic=2)
    one = _train_two_steps(tf.distribute.get_strategy(), build, loss, data, ref, **kw)
    two = _train_two_steps(mirrored, build, loss, data, ref, **kw)
    moved = max(np.abs(a - b).max() for a, b in zip(one, ref))
    assert moved > 1e-3  # the steps did change the weights
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_two_replicas_equal_one_conditional_dcgan_with_synchronized_bn(mirrored):
    images, labels = fashion_batches(n=32, batch=16).unbatch().batch(32).get_single_element()
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16, drop_remainder=True)

    def build():
        return tfgans.GAN(
            DCGANGenerator((28, 28, 1), latent_dim=8, width=4, num_classes=10, synchronized_bn=True),
            DCGANDiscriminator((28, 28, 1), width=4, num_classes=10, conditioning="projection"),
            latent_dim=8, num_classes=10, ema_decay=0.9,
        )

    keras.utils.set_random_seed(0)
    ref = build().get_weights()
    one = _train_two_steps(tf.distribute.get_strategy(), build, "wasserstein", data, ref, n_critic=2)
    two = _train_two_steps(mirrored, build, "wasserstein", data, ref, n_critic=2)
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("kw", [{"jit_compile": True}, {"steps_per_execution": 2}])
def test_xla_and_steps_per_execution_rejected_early_under_mirrored(mirrored, kw):
    # Both fail inside the first step under MirroredStrategy in Keras 3.15 (keras#19246).
    with mirrored.scope():
        gan = mlp_gan(hidden=8)
        with pytest.raises(ValueError, match="work on one device only.*keras#19246"):
            gan.compile(loss="hinge", **kw)
        gan.compile(loss="hinge")  # the default resolves to no XLA
    assert gan.jit_compile is False


def test_replicas_draw_different_noise(mirrored):
    with mirrored.scope():
        gan = mlp_gan(hidden=8)

    @tf.function
    def draw():
        return mirrored.run(lambda: gan._noise(tf.constant(3, tf.int64), 0, 4))

    a, b = mirrored.experimental_local_results(draw())
    assert not np.allclose(a, b)
    # ... and together they are the global batch one replica draws.
    whole = gan._noise(tf.constant(3, tf.int64), 0, 8)
    np.testing.assert_allclose(np.concatenate([a, b]), whole, atol=1e-6)
