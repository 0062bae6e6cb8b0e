"""TrainingHealth: each warning fires within a stated bound of a provoked failure, and none
on healthy runs that last at least twice the longest detection window.

The runs are tiny MLP GANs on a ring of 8 Gaussians (2-D points) unless a signal needs
images. Settings of every run: window 50, checks every 10 steps, sample checks every 25
after a warm-up of 100 (early GAN training is wild: a healthy WGAN-GP's samples first move
away from the data). The longest detection time is the sample-based "G loss falls without
improvement": the warm-up, then 3 sample checks over 50 steps: 150 steps; the healthy runs
last 400 steps (over 2x). Bound: every provoked signal fires by step 200.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgans
from tfgans.callbacks import TrainingHealth
from tfgans.models import MLPDiscriminator, MLPGenerator
from tfgans.training.gan import _D_STREAM

CENTERS = np.stack([2 * np.cos(2 * np.pi * np.arange(8) / 8),
                    2 * np.sin(2 * np.pi * np.arange(8) / 8)], 1)
BOUND = 200
BATCH = 32


def ring(n, seed=0):
    rng = np.random.RandomState(seed)
    return (CENTERS[rng.randint(0, 8, n)] + 0.02 * rng.randn(n, 2)).astype("float32")


class Constant(keras.layers.Layer):
    """A generator output that ignores the noise: one learned value (`shape`)."""

    def __init__(self, value, **kw):
        super().__init__(**kw)
        self.value = np.asarray(value, np.float32)

    def build(self, input_shape):
        self.theta = self.add_weight(shape=self.value.shape,
                                     initializer=keras.initializers.Constant(self.value))

    def call(self, z):
        return keras.ops.zeros_like(z[:, :1])[(...,) + (None,) * (self.value.ndim - 1)] \
            + self.theta


def constant_generator(value, latent_dim=8):
    z = keras.Input((latent_dim,))
    return keras.Model(z, Constant(value)(z))


def train(steps, loss="wasserstein", gp=1.0, g_lr=1e-3, d_lr=1e-3, optimizer=None,
          generator=None, discriminator=None, data=None, latent_dim=8, reference=None,
          classifier=None, tmp_path=None):
    keras.utils.set_random_seed(0)
    generator = generator or MLPGenerator((2,), latent_dim=latent_dim, hidden_units=(32, 32),
                                          output_activation=None)
    gan = tfgans.GAN(generator, discriminator or MLPDiscriminator(hidden_units=(32, 32)),
                     latent_dim=latent_dim)
    optimizer = optimizer or keras.optimizers.Adam
    gan.compile(optimizer(g_lr), optimizer(d_lr), loss=loss, gradient_penalty=gp)
    data = ring(steps * BATCH) if data is None else data
    health = TrainingHealth(
        log_dir=None if tmp_path is None else str(tmp_path / "logs"),
        path=None if tmp_path is None else str(tmp_path / "health.json"),
        window=50, check_every=10, sample_every=25, warmup=100,
        reference=ring(256, seed=1) if reference is None else reference,
        classifier=classifier, verbose=False)
    gan.fit(data, batch_size=BATCH, epochs=1, verbose=0, callbacks=[health])
    return health


def fired(health):
    """{signal: the step of its first warning}."""
    first = {}
    for w in health.warnings:
        first.setdefault(w["signal"], w["step"])
    return first


@pytest.mark.parametrize("loss,gp", [("wasserstein", 1.0), ("non_saturating", 0.0)])
def test_healthy_runs_raise_no_warning(loss, gp, tmp_path):
    health = train(400, loss=loss, gp=gp, tmp_path=tmp_path)
    assert health.warnings == [], health.warnings
    state = json.loads((tmp_path / "health.json").read_text())
    assert state["step"] == 400 and state["warnings"] == [] and state["active"] == []
    assert state["values"]["grad_norm_generator"] > 0
    assert list((tmp_path / "logs").iterdir())  # health/* scalars


def test_exploding_gradients_learning_rate_one():
    health = train(100, loss="non_saturating", gp=0.0, g_lr=1.0, d_lr=1.0)
    assert fired(health).get("exploding_gradients", BOUND + 1) <= BOUND, health.warnings
    message = next(w["message"] for w in health.warnings
                   if w["signal"] == "exploding_gradients")
    assert "gradient norm" in message and "Try: lower the learning rate" in message
    assert "\n" not in message


def test_discriminator_winning_with_100x_the_learning_rate():
    health = train(BOUND, loss="non_saturating", gp=0.0, g_lr=1e-4, d_lr=1e-2)
    assert fired(health).get("discriminator_winning", BOUND + 1) <= BOUND, health.warnings


def test_critic_winning_without_bound_wasserstein_without_penalty():
    health = train(BOUND, loss="wasserstein", gp=0.0, g_lr=1e-4, d_lr=1e-2)
    assert fired(health).get("discriminator_winning", BOUND + 1) <= BOUND, health.warnings


def test_discriminator_too_weak_and_generator_loss_falls_without_improvement_frozen_d():
    # A frozen discriminator (learning rate 0): the generator exploits it, its loss falls
    # while its samples move away from the data.
    health = train(BOUND, loss="non_saturating", gp=0.0, g_lr=2e-3, d_lr=0.0)
    first = fired(health)
    assert first.get("discriminator_too_weak", BOUND + 1) <= BOUND, health.warnings
    assert first.get("generator_loss_falls_without_improvement", BOUND + 1) <= BOUND, \
        health.warnings


def test_a_wasserstein_generator_loss_that_falls_is_not_judged_frozen_critic():
    # The frozen-discriminator failure with the Wasserstein loss: its generator loss falls
    # too, but a critic's output has a free offset, so the fall is no evidence of a stall
    # (make demo's healthy run warned on it); the weak critic is still seen.
    health = train(BOUND, loss="wasserstein", gp=0.0, g_lr=2e-3, d_lr=0.0)
    first = fired(health)
    assert "generator_loss_falls_without_improvement" not in first, health.warnings
    assert first.get("discriminator_too_weak", BOUND + 1) <= BOUND, health.warnings
    assert health.values.get("sample_distance", 0) > 0  # still measured and logged


def test_vanishing_generator_gradients_saturated_output():
    # A dead ReLU output layer: every pre-activation below 0, no gradient reaches G.
    generator = MLPGenerator((2,), latent_dim=8, hidden_units=(32,), output_activation="relu")
    generator(np.zeros((1, 8), np.float32))
    kernel, bias = generator.out.get_weights()
    generator.out.set_weights([kernel, bias - 100.0])
    health = train(BOUND, generator=generator)
    assert fired(health).get("vanishing_generator_gradients", BOUND + 1) <= BOUND, \
        health.warnings


class _Run:
    """A stand-in model for feeding a callback logs: `step` and `settings()` only."""

    def __init__(self, loss):
        self.step, self._loss = 0, loss

    def settings(self):
        return {"loss": self._loss}


def test_spiky_discriminator_loss():
    # Fed the running-mean logs Keras reports (no training: a D loss that spikes on
    # demand; outlier batches in real training also move every other signal).
    rng = np.random.RandomState(0)
    run, health = _Run("non_saturating"), TrainingHealth(
        window=50, check_every=10, sample_every=0, warmup=100, verbose=False)
    health.set_model(run)
    health.on_train_begin()
    health.on_epoch_begin(0)
    totals = {}
    for step in range(1, BOUND + 1):
        values = {"d_loss": 1.2 + 0.05 * rng.randn(), "g_loss": 0.8 + 0.05 * rng.randn(),
                  "d_real": 0.5 + 0.1 * rng.randn(), "d_fake": -0.5 + 0.1 * rng.randn()}
        if step > 100 and step % 15 == 0:
            values["d_loss"] += 5.0  # a spike
        for name, value in values.items():
            totals[name] = totals.get(name, 0.0) + value
        run.step = step
        health.on_train_batch_end(step - 1, {n: t / step for n, t in totals.items()})
    assert fired(health) == {"spiky_discriminator_loss": fired(health).get(
        "spiky_discriminator_loss", BOUND + 1)}, health.warnings
    assert fired(health)["spiky_discriminator_loss"] <= BOUND


def test_oscillation_dirac_gan():
    # Mescheder et al. 2018's Dirac GAN: data at 0, G = one value, D linear; gradient
    # descent circles the equilibrium for ever.
    discriminator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(
        1, use_bias=False, kernel_initializer="zeros")])
    health = train(BOUND, gp=0.0, g_lr=0.2, d_lr=0.2, optimizer=keras.optimizers.SGD,
                   generator=constant_generator([1.0, 0.0], latent_dim=1), latent_dim=1,
                   discriminator=discriminator, data=np.zeros((BOUND * BATCH, 2), "float32"),
                   reference=np.zeros((64, 2), "float32"))
    assert fired(health).get("oscillation", BOUND + 1) <= BOUND, health.warnings


def test_mode_collapse_one_output_points():
    health = train(BOUND, generator=constant_generator([0.3, -0.2]))
    assert fired(health).get("mode_collapse", BOUND + 1) <= BOUND, health.warnings
    assert health.values["near_duplicate_rate"] == 1.0


def test_mode_collapse_class_histogram_under_a_classifier():
    # A generator whose samples differ (noise added) but are all one shape: no
    # near-duplicates by the reference's scale, one class under the classifier.
    shape = np.zeros((28, 28, 1), np.float32) - 1
    shape[4:24, 10:18] = 1.0  # a bar
    z = keras.Input((8,))
    jitter = keras.layers.Dense(28 * 28, kernel_initializer=keras.initializers.RandomNormal(
        stddev=0.3), trainable=False)(z)
    images = keras.layers.Reshape((28, 28, 1))(jitter)
    generator = keras.Model(z, keras.layers.Add()([Constant(shape)(z), images]))

    def classifier(x):  # "class 3" for anything: the histogram is the point here
        return np.tile(np.eye(10)[3], (len(x), 1))

    reals = np.random.RandomState(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    health = train(BOUND, generator=generator, discriminator=MLPDiscriminator(
        hidden_units=(8,)), data=np.repeat(reals, BOUND * BATCH // 64, 0),
        reference=reals, classifier=classifier)
    assert fired(health).get("mode_collapse", BOUND + 1) <= BOUND, health.warnings
    assert health.values["top_class_share"] == 1.0
    assert health.values["near_duplicate_rate"] < 0.5


def test_gradient_norms_are_logged_and_match_the_tape():
    keras.utils.set_random_seed(0)
    gan = tfgans.GAN(MLPGenerator((2,), latent_dim=4, hidden_units=(8,),
                                  output_activation=None),
                     MLPDiscriminator(hidden_units=(8,)), latent_dim=4)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), loss="non_saturating",
                gradient_penalty=0.0)
    x = ring(16)
    history = gan.fit(x, batch_size=16, epochs=1, verbose=0).history
    # The same step by hand: learning rate 0 leaves the weights as they were.
    noise = gan._noise(tf.constant(0, tf.int64), _D_STREAM, 16)
    with tf.GradientTape() as tape:
        fake = gan.generator(noise, training=True)
        loss = tfgans.losses.modified_discriminator_loss(
            gan.discriminator(x, training=True), gan.discriminator(fake, training=True))
    grads = tape.gradient(loss, gan.discriminator.trainable_variables)
    np.testing.assert_allclose(history["grad_norm_discriminator"][0],
                               float(tf.linalg.global_norm(grads)), rtol=1e-4)
    assert history["grad_norm_generator"][0] > 0


def test_bad_arguments_one_clear_error():
    with pytest.raises(ValueError, match="`window` must be an integer >= 8"):
        TrainingHealth(window=2)
    with pytest.raises(ValueError, match="`sample_every` must be an integer >= 0"):
        TrainingHealth(sample_every=-1)
