"""`BEGAN`: Boundary Equilibrium GAN (Berthelot et al. 2017), an auto-encoder
discriminator whose L1 reconstruction losses on real and generated images are balanced by
the equilibrium controller k_t.

Each step, as the paper's section 3.3:

    L(v)   = mean |v - D(v)|                              (the auto-encoder loss, L1)
    L_D    = L(x) - k_t * L(G(z_D))                       (discriminator update)
    L_G    = L(G(z_G))                                    (generator update, after D's)
    k_t+1  = clip(k_t + lambda_k * (gamma * L(x) - L(G(z_G))), 0, 1)
    M      = L(x) + |gamma * L(x) - L(G(z_G))|            (M_global, logged)

k_t is trainer state: a checkpointed variable (`state_variables`), so resume is exact.
Logged: d_loss, g_loss, real_ae_loss (L(x)), fake_ae_loss (L(G(z_G))), k (k_t+1) and
m_global, which reach TensorBoard through the usual callbacks.

Reference: https://arxiv.org/abs/1703.10717
"""

import keras
import tensorflow as tf
from keras.src.saving import serialization_lib

from tfgans.losses import energy
from tfgans.losses.common import check_range
from tfgans.settings import Key, Setting
from tfgans.training import noise as noise_lib
from tfgans.training.energy import D_STREAM, G_STREAM, AutoEncoderGAN
from tfgans.training.gan import network_losses


def resolve_settings(gamma=0.5, lambda_k=0.001):
    """The effective BEGAN settings, validated."""
    check_range("gamma", gamma, 0.0, 1.0)
    check_range("lambda_k", lambda_k, 0.0)
    return {"gamma": float(gamma), "lambda_k": float(lambda_k)}


@keras.saving.register_keras_serializable(package="tfgans")
class BEGAN(AutoEncoderGAN):
    """BEGAN's trainer (noise -> image; see the module docstring for the step).

    Args:
        generator: noise [B, latent_dim] -> images in [-1, 1] (`tfgans.models.BEGANGenerator`).
        discriminator: images -> `(reconstruction, codes)` (`BEGANDiscriminator`).
        latent_dim, ema_decay, seed: as `tfgans.GAN`.

    Example:
    ```python
    generator, discriminator = tfgans.models.get("began")((28, 28, 1), latent_dim=64)
    began = tfgans.training.BEGAN(generator, discriminator)
    began.compile(gamma=0.5)   # Adam(1e-4, 0.5, 0.999) for each network by default
    began.fit(dataset, epochs=1)
    float(began.k), began.generate(16)
    ```

    Reference: https://arxiv.org/abs/1703.10717
    """

    TRACKERS = ("d_loss", "g_loss", "real_ae_loss", "fake_ae_loss", "k", "m_global")
    SETTINGS = (
        Setting("model.latent_dim", "latent_dim", Key(64, "int", low=1,
                                                      doc="noise size (the paper's N_z)")),
        Setting("train.ema", "ema_decay", Key(
            0.0, "float", low=0.0, high=1.0, high_open=True, nullable=True,
            doc="generator weight EMA decay; 0 (or null): no EMA (BEGAN has none)")),
        Setting("train.seed", "seed", Key(0, "int", low=0, doc="seed of weights and noise")),
        Setting("loss.gamma", "gamma", Key(
            0.5, "float", low=0.0, high=1.0,
            doc="diversity ratio E[L(G(z))] / E[L(x)] aimed at (the paper shows 0.3-0.7)")),
        Setting("loss.lambda_k", "lambda_k", Key(
            0.001, "float", low=0.0, doc="the k_t controller's proportional gain")),
    )
    resolve_settings = staticmethod(resolve_settings)

    def __init__(self, generator, discriminator, latent_dim=None, ema_decay=None, seed=0,
                 **kwargs):
        super().__init__(generator, discriminator, latent_dim=latent_dim,
                         ema_decay=ema_decay, seed=seed, **kwargs)
        # The same value on every replica: it is computed from cross-replica means, and
        # the first replica's assignment is kept.
        self.k = tf.Variable(0.0, trainable=False, name="k_t",
                             aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def default_optimizer(self, network):
        """Adam(1e-4, beta_1=0.5, beta_2=0.999), the paper's rate (beta_1 as in common
        BEGAN implementations: the paper names only Adam)."""
        return keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.999)

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, gamma=0.5,
                lambda_k=0.001, **kwargs):
        """Configures training.

        Args:
            generator_optimizer, discriminator_optimizer: Keras optimizers (or names);
                None: `default_optimizer`.
            gamma: the diversity ratio aimed at, in [0, 1].
            lambda_k: the proportional gain of k_t's update (0.001 in the paper).
            **kwargs: `keras.Model.compile`'s `jit_compile`, `steps_per_execution`,
                `run_eagerly`.
        """
        settings = resolve_settings(gamma, lambda_k)
        super().compile({"generator": generator_optimizer,
                         "discriminator": discriminator_optimizer}, **kwargs)
        self.gamma, self.lambda_k = settings["gamma"], settings["lambda_k"]
        self.training_settings = settings
        self._compile_config = serialization_lib.SerializableDict(
            generator_optimizer=self.generator_optimizer,
            discriminator_optimizer=self.discriminator_optimizer, **settings, **kwargs)

    def state_variables(self):
        """k_t, checkpointed with the networks and optimizers."""
        return {"k": self.k}

    def ae_loss(self, images, training=True):
        """L(v): the mean L1 reconstruction error of the discriminator on `images`."""
        reconstruction, _ = self.autoencode(images, training=training)
        return energy.began_autoencoder_loss(images, reconstruction, eta=1)

    def train_step(self, data):
        real = self.real_images(data)
        batch = real.shape[0] or tf.shape(real)[0]
        step = self.step
        k = tf.identity(self.k)

        fake = tf.stop_gradient(tf.cast(
            self.generator(self.step_noise(step, D_STREAM, batch), training=True), tf.float32))
        with tf.GradientTape() as tape:
            real_loss = self.ae_loss(real)
            d_loss = energy.began_discriminator_loss(real_loss, self.ae_loss(fake), k)
            total = d_loss + network_losses(self.discriminator)
            scaled = self.scale_loss(total, "discriminator")
        d_finite = self.apply_gradients("discriminator", scaled, tape, tf.math.is_finite(total))

        noise = self.step_noise(step, G_STREAM, batch)
        with tf.GradientTape() as tape:
            fake_loss = self.ae_loss(tf.cast(self.generator(noise, training=True), tf.float32))
            g_loss = energy.began_generator_loss(fake_loss)
            total = g_loss + network_losses(self.generator)
            scaled = self.scale_loss(total, "generator")
        g_finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(total))

        # The controller and the measure on the global batch's losses (the same on every
        # replica, so k_t does not depend on how the batch is split).
        real_mean, fake_mean = tf.unstack(noise_lib.cross_replica_mean(
            tf.stack([real_loss, fake_loss])))
        finite = tf.logical_and(d_finite, g_finite)
        new_k = energy.began_k_update(k, real_mean, fake_mean, self.gamma, self.lambda_k)
        self.k.assign(tf.where(finite, new_k, k))
        self.update_ema(step)
        return self.track({
            "d_loss": d_loss, "g_loss": g_loss, "real_ae_loss": real_loss,
            "fake_ae_loss": fake_loss, "k": self.k.read_value(),
            "m_global": energy.began_convergence(real_mean, fake_mean, self.gamma),
            "nonfinite": 1.0 - tf.cast(finite, tf.float32),
        })

    def evaluation_logs(self, real, fake):
        real_loss, fake_loss = self.ae_loss(real, False), self.ae_loss(fake, False)
        return {"real_ae_loss": real_loss, "fake_ae_loss": fake_loss,
                "m_global": energy.began_convergence(real_loss, fake_loss, self.gamma)}

    def monitor_directions(self):
        """m_global (lower is better) can be monitored too."""
        return {**super().monitor_directions(), "m_global": "min"}
