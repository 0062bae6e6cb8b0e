"""`ProGAN`: progressive growing of GANs (Karras et al., 2018) on the `GAN` trainer.

Training starts at the networks' first resolution (7x7 for 28 px, 4x4 for 32 and 64 px)
and grows to the full one. Each phase after the first fades its new resolution in over
`fade_steps` steps (alpha rises linearly from 0 to 1) and then stabilises for
`stabilize_steps` steps; the first phase only stabilises, and the last phase lasts until
training ends:

    phase 0: steps [0, S)                        alpha 1
    phase p: steps [S + (p-1)(F+S), S + p(F+S)):  alpha = min((t - start) / F, 1)

The phase and alpha are a function of the step (`schedule`); the trainer keeps them in
two variables (`phase`, `alpha`, its `state_variables()`), so checkpoints hold them and a
restored trainer samples and exports at its phase before taking a step.

The networks (`tfgans.models.ProGANGenerator` / `ProGANDiscriminator`) are built once
at full resolution, every resolution's layers present from step 0, so checkpoints and
the optimizer slots never change shape. They take the phase and alpha as call arguments
and blend all resolutions' outputs (weights 0 / alpha / 1 - alpha / 1) in one static
graph, which compiles with XLA: no `tf.switch_case`, no retracing at a phase change. The
generator's images are always full-size (the phase's images upsampled); the real images
are pooled to the phase's resolution and faded like the generator's, then upsampled back.

The losses are WGAN-GP's (the penalty computed at full size on the upsampled images, which
is the penalty at the phase's resolution up to a constant factor per phase) plus the
drift term `drift * E[D(x_real)^2]` (epsilon_drift = 1e-3 in the paper), one critic
update per generator update.

Reference: [Progressive Growing of GANs](https://arxiv.org/abs/1710.10196), section 2
and appendix A.1.
"""

import keras
import tensorflow as tf
from keras import ops

from tfgans.models.progan import fade_reals
from tfgans.settings import Key, Setting
from tfgans.training.gan import _D_STREAM, _G_STREAM, _GENERATE_STREAM, GAN, network_losses
from tfgans.training.gan import unpack_batch
from tfgans.penalties import clip_weights


def schedule(step, stages, fade_steps, stabilize_steps):
    """The (phase, alpha) of training step `step` (see the module docstring).

    Args:
        step: the step (int, or an integer tensor).
        stages: the networks' number of resolutions.
        fade_steps, stabilize_steps: steps of each phase's fade-in and stabilisation.

    Returns:
        (phase int32 tensor, alpha float32 tensor).

    Example:
    >>> [tuple(map(float, schedule(t, 3, 2, 2))) for t in (0, 2, 3, 4, 6, 7, 99)]
    [(0.0, 1.0), (1.0, 0.0), (1.0, 0.5), (1.0, 1.0), (2.0, 0.0), (2.0, 0.5), (2.0, 1.0)]
    """
    t = tf.cast(step, tf.int64)
    fade, stab = int(fade_steps), int(stabilize_steps)
    u = t - stab                                     # steps since phase 1 began
    k = tf.math.floordiv(tf.maximum(u, 0), fade + stab)   # phases completed after phase 0
    grown = u < 0
    phase = tf.where(grown, tf.constant(0, tf.int64), tf.minimum(1 + k, stages - 1))
    within = tf.maximum(u, 0) - k * (fade + stab)
    fading = tf.minimum(tf.cast(within, tf.float32) / float(fade), 1.0)
    done = tf.logical_or(grown, 1 + k > stages - 1)
    alpha = tf.where(done, tf.constant(1.0), fading)
    return tf.cast(phase, tf.int32), alpha


class AtLevel(keras.Model):
    """A progressive network called at the trainer's current phase and alpha: what
    `ProGAN` samples from and exports (`network(inputs, phase=phase, alpha=alpha)`).
    The two variables are the trainer's: the export holds their values."""

    def __init__(self, network, phase, alpha, **kwargs):
        super().__init__(name=f"{network.name}_at_level", **kwargs)
        self.network = network
        self.phase = phase
        self.alpha = alpha
        self.latent_dim = getattr(network, "latent_dim", None)
        self.built = True

    def call(self, inputs, training=False):
        return self.network(inputs, training=training,
                            phase=ops.convert_to_tensor(self.phase),
                            alpha=ops.convert_to_tensor(self.alpha))


@keras.saving.register_keras_serializable(package="tfgans")
class ProGAN(GAN):
    """Progressive growing of a generator and discriminator (Karras et al. 2018).

    Args:
        generator, discriminator: progressive networks (`tfgans.models.build_progan`):
            models with a `stages` attribute whose call takes `phase` and `alpha`.
        latent_dim, ema_decay, seed: as for `tfgans.GAN`. Progressive GAN is
            unconditional (`num_classes` must be None).
        fade_steps: steps over which a new resolution fades in (alpha 0 -> 1).
        stabilize_steps: steps each resolution trains at alpha 1 before the next one
            fades in (the first resolution trains only these).

    `compile` takes `tfgans.GAN.compile`'s arguments plus `drift` (the weight of
    E[D(x_real)^2], 1e-3 in the paper); its defaults are the paper's: WGAN-GP (penalty
    10), one critic step, Adam(1e-3, beta_1 0, beta_2 0.99).

    Example:
    ```python
    g, d = tfgans.models.build_progan((28, 28, 1), latent_dim=128, width=32)
    gan = ProGAN(g, d, fade_steps=2000, stabilize_steps=2000)
    gan.compile()
    gan.fit(dataset, epochs=...)
    images = gan.generate(16)        # 28x28, upsampled from the current phase
    ```
    """

    SETTINGS = GAN.SETTINGS + (
        Setting("train.fade_steps", "fade_steps", Key(
            2000, "int", low=1, doc="progressive growing: steps over which each new "
            "resolution fades in (alpha 0 -> 1)")),
        Setting("train.stabilize_steps", "stabilize_steps", Key(
            2000, "int", low=1, doc="progressive growing: steps each resolution trains at "
            "alpha 1 (the first resolution: only these)")),
        Setting("loss.drift", "drift", Key(
            1e-3, "float", low=0.0, doc="weight of the drift term E[D(x_real)^2] "
            "(epsilon_drift, Karras et al. 2018)")),
    )

    #: The to-RGB layers are linear (as in the paper): `generate` clips to the image range.
    output_range = (-1.0, 1.0)

    def __init__(self, generator, discriminator, latent_dim=None, num_classes=None,
                 ema_decay=None, seed=0, fade_steps=2000, stabilize_steps=2000, **kwargs):
        if num_classes is not None:
            raise ValueError(
                "Progressive GAN is unconditional (Karras et al. 2018): use num_classes=None "
                f"(config: data.labels false). Received: num_classes={num_classes}"
            )
        for name, net in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(getattr(net, "stages", None), int):
                raise ValueError(
                    f"ProGAN needs progressive networks (tfgans.models.build_progan): the "
                    f"{name} has no `stages`. Received: {type(net).__name__}"
                )
        if generator.stages != discriminator.stages:
            raise ValueError(
                "The generator and discriminator must have the same number of resolutions. "
                f"Received: {generator.stages} and {discriminator.stages}"
            )
        for name, value in (("fade_steps", fade_steps), ("stabilize_steps", stabilize_steps)):
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
        super().__init__(generator, discriminator, latent_dim=latent_dim, num_classes=None,
                         ema_decay=ema_decay, seed=seed, **kwargs)
        self.stages = generator.stages
        self.fade_steps = int(fade_steps)
        self.stabilize_steps = int(stabilize_steps)
        self.phase = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                     trainable=False, name="phase",
                                     aggregation="only_first_replica")
        self.alpha = self.add_weight(shape=(), dtype="float32", initializer="ones",
                                     trainable=False, name="alpha",
                                     aggregation="only_first_replica")
        self.add_trackers(["drift"])
        self.drift = 1e-3

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, drift=1e-3,
                loss="wasserstein", n_critic=1, **kwargs):
        """`tfgans.GAN.compile` with the paper's defaults, plus `drift` (>= 0)."""
        if isinstance(drift, bool) or not isinstance(drift, (int, float)) or drift < 0:
            raise ValueError(f"`drift` must be a number >= 0. Received: drift={drift!r}")
        super().compile(generator_optimizer, discriminator_optimizer, loss=loss,
                        n_critic=n_critic, **kwargs)
        self.stabilisers.refuse("Progressive growing's training step")
        self.drift = float(drift)
        self.training_settings = {**self.training_settings, "drift": self.drift}
        self._compile_config.config.update(drift=self.drift)

    def default_optimizer(self, network):
        """The paper's Adam(1e-3, beta_1 0, beta_2 0.99, epsilon 1e-8)."""
        return keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8)

    # ---------------------------------------------------------------- phase and alpha

    def state_variables(self):
        return {"phase": [self.phase], "alpha": [self.alpha]}

    def schedule(self, step):
        """(phase, alpha) at `step` under this trainer's schedule."""
        return schedule(step, self.stages, self.fade_steps, self.stabilize_steps)

    def _level(self):
        return {"phase": ops.convert_to_tensor(self.phase),
                "alpha": ops.convert_to_tensor(self.alpha)}

    @property
    def inference_generator(self):
        """The (EMA) generator at the current phase and alpha, full-size images."""
        return AtLevel(self.inference_network("generator"), self.phase, self.alpha)

    # ------------------------------------------------------------------------ the step

    def _input_gradients(self, x, labels):
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = self.discriminator(x, training=True, **self._level())
            total = tf.reduce_sum(tf.cast(logits, tf.float32))
        return tape.gradient(total, x)

    def _discriminator_step(self, real, labels, step, k):
        batch = real.shape[0] or tf.shape(real)[0]
        stream = _D_STREAM + k
        level = self._level()
        noise = self._noise(step, stream, batch)
        fake = self.generator(noise, training=True, **level)
        fake = tf.stop_gradient(tf.cast(fake, real.dtype))
        with tf.GradientTape() as tape:
            real_logits = tf.cast(self.discriminator(real, training=True, **level), tf.float32)
            fake_logits = tf.cast(self.discriminator(fake, training=True, **level), tf.float32)
            d_loss, total = self._adversarial_loss(real_logits, fake_logits, generator=False)
            penalty = tf.constant(0.0)
            if self.penalty.weight > 0:
                penalty = self._penalty(real, fake, None, step, stream)
                total = total + self.penalty.weight * penalty
            drift = tf.reduce_mean(tf.square(real_logits))
            total = total + self.drift * drift + network_losses(self.discriminator)
            scaled = self.scale_loss(total, "discriminator")
        finite = self.apply_gradients("discriminator", scaled, tape, tf.math.is_finite(total))
        if self.penalty.weight_clip:
            clip_weights(self.discriminator.trainable_variables, self.penalty.weight_clip)
        return {"d_loss": d_loss, "penalty": penalty, "drift": drift,
                "d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_logits),
                "finite": finite}

    def _generator_step(self, real, labels, step):
        batch = real.shape[0] or tf.shape(real)[0]
        level = self._level()
        noise = self._noise(step, _G_STREAM, batch)
        real_logits = None
        if self.gan_loss.uses_batch_mean:
            real_logits = tf.cast(self.discriminator(real, training=True, **level), tf.float32)
        with tf.GradientTape() as tape:
            fake = self.generator(noise, training=True, **level)
            fake_logits = tf.cast(self.discriminator(fake, training=True, **level), tf.float32)
            g_loss, total = self._adversarial_loss(real_logits, fake_logits, generator=True)
            total = total + network_losses(self.generator)
            scaled = self.scale_loss(total, "generator")
        finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(total))
        return g_loss, finite

    def train_step(self, data):
        real, _ = unpack_batch(data)
        step = self.step
        phase, alpha = self.schedule(step)
        self.phase.assign(phase)
        self.alpha.assign(alpha)
        real = fade_reals(tf.cast(real, tf.float32), phase, alpha, self.stages)
        return self.track(self._alternate(real, None, step))

    def test_step(self, data):
        """The losses on a batch at the current phase, without updating anything."""
        real, _ = unpack_batch(data)
        level = self._level()
        real = fade_reals(tf.cast(real, tf.float32), level["phase"], level["alpha"],
                          self.stages)
        batch = real.shape[0] or tf.shape(real)[0]
        noise = self._noise(tf.constant(0, tf.int64), _GENERATE_STREAM, batch)
        fake = tf.cast(self.generator(noise, training=False, **level), real.dtype)
        real_logits = tf.cast(self.discriminator(real, **level), tf.float32)
        fake_logits = tf.cast(self.discriminator(fake, **level), tf.float32)
        logs = {
            "d_loss": self._adversarial_loss(real_logits, fake_logits, generator=False)[0],
            "g_loss": self._adversarial_loss(real_logits, fake_logits, generator=True)[0],
            "d_real": tf.reduce_mean(real_logits),
            "d_fake": tf.reduce_mean(fake_logits),
        }
        return {name: tracker.result() for name, tracker in self.track(logs).items()
                if name in logs}

    # --------------------------------------------------------------------- the contract

    def settings(self):
        return {**super().settings(), "stages": self.stages, "fade_steps": self.fade_steps,
                "stabilize_steps": self.stabilize_steps}

    def get_config(self):
        return {**super().get_config(), "fade_steps": self.fade_steps,
                "stabilize_steps": self.stabilize_steps}
