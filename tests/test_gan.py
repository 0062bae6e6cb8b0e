"""The GAN trainer: learning, determinism, XLA, precision, save/load."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
from tfgans.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator

CENTERS = np.stack([2 * np.cos(2 * np.pi * np.arange(8) / 8), 2 * np.sin(2 * np.pi * np.arange(8) / 8)], 1)


def ring_of_gaussians(n, seed=0):
    rng = np.random.RandomState(seed)
    k = rng.randint(0, 8, n)
    return (CENTERS[k] + 0.02 * rng.randn(n, 2)).astype("float32")


def modes_covered(points):
    """Modes holding at least 1% of the samples within 0.3 of their centre."""
    d = np.linalg.norm(points[:, None] - CENTERS[None], axis=-1)
    near = d.min(1) < 0.3
    counts = np.bincount(d.argmin(1)[near], minlength=8)
    return int((counts >= 0.01 * len(points)).sum())


def mlp_gan(latent_dim=8, hidden=64, num_classes=None, **kw):
    return tfgans.GAN(
        MLPGenerator((2,), latent_dim=latent_dim, hidden_units=(hidden, hidden), output_activation=None, num_classes=num_classes),
        MLPDiscriminator(hidden_units=(hidden, hidden), num_classes=num_classes),
        latent_dim=latent_dim,
        num_classes=num_classes,
        **kw,
    )


@pytest.mark.parametrize("loss,steps", [("wasserstein", 2000), ("hinge", 1000)])
def test_mlp_gan_covers_ring_of_gaussians(loss, steps):
    keras.utils.set_random_seed(0)
    ds = (
        tf.data.Dataset.from_tensor_slices(ring_of_gaussians(64000))
        .shuffle(64000, seed=0).repeat().batch(256, drop_remainder=True)
    )
    gan = mlp_gan()
    gan.compile(
        keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9),
        keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9),
        loss=loss,  # wasserstein: gradient penalty 10 and n_critic 5 by default
        jit_compile=True,
        steps_per_execution=50,
    )
    assert gan.n_critic == (5 if loss == "wasserstein" else 1)
    gan.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    assert modes_covered(gan.generate(2000, seed=1)) >= 6


def fashion_batches(n=2048, batch=64):
    from pipelines.data.idx import load_fashion_mnist_arrays

    images, labels = load_fashion_mnist_arrays("train")
    x = images[:n, :, :, None].astype("float32") / 127.5 - 1.0
    return tf.data.Dataset.from_tensor_slices((x, labels[:n])).batch(batch, drop_remainder=True)


def test_dcgan_trains_on_28x28_and_discriminator_separates_early():
    keras.utils.set_random_seed(0)
    ds = fashion_batches().map(lambda x, y: x)
    gan = tfgans.GAN(DCGANGenerator((28, 28, 1), latent_dim=32, width=16), DCGANDiscriminator((28, 28, 1), width=16), latent_dim=32)
    gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5), loss="non_saturating")
    history = gan.fit(ds, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values())
    assert all(np.all(np.isfinite(w)) for w in gan.get_weights())
    real = next(iter(ds))
    fake = gan.generate(64, seed=3)
    assert float(tf.reduce_mean(gan.discriminator(real))) > float(tf.reduce_mean(gan.discriminator(fake)))
    assert history["d_real"][-1] > history["d_fake"][-1]


# --- determinism, compilation, precision ----------------------------------------------------


def _train(seed, optimizer=keras.optimizers.Adam, **compile_kw):
    keras.utils.set_random_seed(0)
    gan = mlp_gan(hidden=16, seed=seed)
    gan.compile(optimizer(1e-3), optimizer(1e-3), **compile_kw)
    data = tf.data.Dataset.from_tensor_slices(ring_of_gaussians(128)).batch(16, drop_remainder=True)
    gan.fit(data, epochs=1, verbose=0)
    return gan


def test_same_seed_same_weights_different_seed_different_weights():
    a, b, c = _train(1).get_weights(), _train(1).get_weights(), _train(2).get_weights()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.allclose(x, z) for x, z in zip(a, c))


def test_jit_compile_and_steps_per_execution_match_eager_graph():
    # SGD: Adam turns float32 rounding differences of near-zero gradients into steps of
    # the learning rate's size, which says nothing about XLA.
    plain = _train(1, keras.optimizers.SGD)
    compiled = _train(1, keras.optimizers.SGD, jit_compile=True, steps_per_execution=4)
    assert compiled.jit_compile and compiled.steps_per_execution == 4
    assert int(compiled.step.numpy()) == 8
    for x, y in zip(plain.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(x, y, atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        gan = tfgans.GAN(DCGANGenerator((28, 28, 1), latent_dim=16, width=8), DCGANDiscriminator((28, 28, 1), width=8), latent_dim=16)
        gan.compile(loss="wasserstein")
        if policy == "mixed_float16":
            assert isinstance(gan.generator_optimizer, keras.optimizers.LossScaleOptimizer)
        logs = gan.fit(fashion_batches(n=128, batch=32).map(lambda x, y: x), epochs=1, verbose=0).history
        assert all(np.isfinite(v[-1]) for v in logs.values())
        assert gan.generate(4).dtype == np.float32
    finally:
        keras.config.set_dtype_policy("float32")


# --- failure modes, conditional variants, save/load ---------------------------------------


def test_exploding_losses_stop_training_with_clear_error():
    keras.utils.set_random_seed(0)
    gan = mlp_gan(hidden=16)
    gan.compile(keras.optimizers.SGD(1e12), keras.optimizers.SGD(1e12), loss="least_squares")
    data = tf.data.Dataset.from_tensor_slices(ring_of_gaussians(512)).batch(16, drop_remainder=True)
    with pytest.raises(tfgans.NonFiniteLossError, match="NaN or infinite.*Lower the learning rates"):
        gan.fit(data, epochs=5, verbose=0)
    assert all(np.all(np.isfinite(w)) for w in gan.get_weights())


def test_conditional_gan_requires_labels():
    gan = mlp_gan(hidden=8, num_classes=3)
    gan.compile(loss="hinge")
    with pytest.raises(ValueError, match="conditional.*\\(images, labels\\)"):
        gan.train_on_batch(ring_of_gaussians(8))


def test_acgan_trains_and_reports_classification_loss():
    keras.utils.set_random_seed(0)
    gan = tfgans.GAN(
        DCGANGenerator((28, 28, 1), latent_dim=8, width=4, num_classes=10),
        DCGANDiscriminator((28, 28, 1), width=4, num_classes=10, conditioning="acgan"),
        latent_dim=8, num_classes=10,
    )
    assert gan.auxiliary_classifier and not gan.discriminator_takes_labels
    gan.compile(loss="non_saturating", label_smoothing=0.1)
    logs = gan.fit(fashion_batches(n=128, batch=32), epochs=1, verbose=0).history
    assert np.isfinite(logs["ac_loss"][-1]) and logs["ac_loss"][-1] > 0
    images = gan.generate(10, seed=0, labels=list(range(10)))
    assert images.shape == (10, 28, 28, 1)


def test_generate_is_deterministic_and_prefix_stable():
    gan = mlp_gan(hidden=8, num_classes=4)
    a = gan.generate(5, seed=7)
    b = gan.generate(64, seed=7, batch_size=3)
    np.testing.assert_allclose(a, b[:5], atol=1e-6)
    assert not np.allclose(a, gan.generate(5, seed=8))
    with pytest.raises(ValueError, match="class ids in \\[0, 3\\]"):
        gan.generate(2, labels=[0, 4])
    with pytest.raises(ValueError, match="num_samples"):
        gan.generate(0)


def test_ema_generator_tracks_and_is_used_for_generation():
    keras.utils.set_random_seed(0)
    gan = mlp_gan(hidden=16, ema_decay=0.9)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2), loss="hinge")
    start = [w.copy() for w in gan.ema_generator.get_weights()]
    data = tf.data.Dataset.from_tensor_slices(ring_of_gaussians(320)).batch(16, drop_remainder=True)
    gan.fit(data, epochs=1, verbose=0)
    ema, live = gan.ema_generator.get_weights(), gan.generator.get_weights()
    assert any(not np.allclose(e, s) for e, s in zip(ema, start))  # it moved
    assert any(not np.allclose(e, g) for e, g in zip(ema, live))  # but lags the live weights
    noise = tfgans.training.sample_noise(4, 8, 0)
    np.testing.assert_allclose(gan.generate(4, seed=0), gan.ema_generator(noise), atol=1e-6)


def test_save_and_load_restores_models_and_optimizers(tmp_path):
    gan = _train(1, loss="hinge")
    path = os.path.join(tmp_path, "gan.keras")
    gan.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded, tfgans.GAN)
    for a, b in zip(gan.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    for opt in ("generator_optimizer", "discriminator_optimizer"):
        for a, b in zip(getattr(gan, opt).variables, getattr(loaded, opt).variables):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(loaded.step.numpy()) == 8 and loaded.gan_loss.name == "hinge"
    # Training continues from where it was, exactly as the original does.
    data = tf.data.Dataset.from_tensor_slices(ring_of_gaussians(64, seed=5)).batch(16, drop_remainder=True)
    gan.fit(data, epochs=1, verbose=0)
    loaded.fit(data, epochs=1, verbose=0)
    for a, b in zip(gan.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_compile_rejects_bad_arguments():
    gan = mlp_gan(hidden=8)
    with pytest.raises(ValueError, match="Unknown loss 'wgan'"):
        gan.compile(loss="wgan")
    with pytest.raises(ValueError, match="n_critic"):
        gan.compile(n_critic=0)
    with pytest.raises(ValueError, match="does not take `optimizer`"):
        gan.compile(optimizer="adam")
    opt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="its own optimizer instance"):
        gan.compile(opt, opt)
