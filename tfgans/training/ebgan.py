"""`EBGAN`: Energy-based GAN (Zhao et al. 2017) with the pull-away term (EBGAN-PT): an
auto-encoder discriminator whose reconstruction error is the energy.

Each step, as the paper's sections 2.2-2.4:

    D(v)  = mean_pixels((v - Dec(Enc(v)))^2)                 (the energy, per example)
    L_D   = mean D(x) + mean max(0, m - D(G(z_D)))          (discriminator update)
    L_G   = mean D(G(z_G)) + pt_weight * f_PT(Enc(G(z_G)))  (generator update, after D's)

Logged: d_loss, g_loss (with the pull-away term), pull_away (f_PT), d_real and d_fake
(the mean energies of real and generated images in D's update).

The pull-away term is a pairwise term of the whole batch: under several replicas each
replica gathers the others' unit codes (forward only) and differentiates a surrogate
whose gradient, summed over the replicas, is the global term's, so a run gives the same
weights on 1 and N replicas (`EBGAN.pull_away`).

Reference: https://arxiv.org/abs/1609.03126
"""

import keras
import tensorflow as tf
from keras.src.saving import serialization_lib

from tfgans.losses import energy
from tfgans.settings import Key, Setting
from tfgans.training.energy import D_STREAM, G_STREAM, AutoEncoderGAN
from tfgans.training.gan import network_losses


def resolve_settings(margin=1.0, pull_away_weight=0.1):
    """The effective EBGAN settings, validated."""
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not margin > 0:
        raise ValueError(f"`margin` must be a number > 0. Received: margin={margin!r}")
    if isinstance(pull_away_weight, bool) or not isinstance(pull_away_weight, (int, float)) or (
            not pull_away_weight >= 0):
        raise ValueError("`pull_away_weight` must be a number >= 0. Received: "
                         f"pull_away_weight={pull_away_weight!r}")
    return {"margin": float(margin), "pull_away_weight": float(pull_away_weight)}


@keras.saving.register_keras_serializable(package="tfgans")
class EBGAN(AutoEncoderGAN):
    """EBGAN's trainer (noise -> image; see the module docstring for the step).

    Args:
        generator: noise [B, latent_dim] -> images in [-1, 1].
        discriminator: images -> `(reconstruction, codes)` (`tfgans.models.EBGANDiscriminator`).
        latent_dim, ema_decay, seed: as `tfgans.GAN`.

    Example:
    ```python
    generator, discriminator = tfgans.models.get("ebgan")((28, 28, 1), latent_dim=100)
    ebgan = tfgans.training.EBGAN(generator, discriminator)
    ebgan.compile(margin=1.0, pull_away_weight=0.1)  # Adam(1e-3, 0.5, 0.999) by default
    ebgan.fit(dataset, epochs=1)
    ```

    Reference: https://arxiv.org/abs/1609.03126
    """

    TRACKERS = ("d_loss", "g_loss", "pull_away", "d_real", "d_fake")
    SETTINGS = (
        Setting("model.latent_dim", "latent_dim", Key(100, "int", low=1, doc="noise size")),
        Setting("train.ema", "ema_decay", Key(
            0.0, "float", low=0.0, high=1.0, high_open=True, nullable=True,
            doc="generator weight EMA decay; 0 (or null): no EMA (EBGAN has none)")),
        Setting("train.seed", "seed", Key(0, "int", low=0, doc="seed of weights and noise")),
        Setting("loss.margin", "margin", Key(
            1.0, "float", low=0.0, low_open=True,
            doc="margin m of D's hinge on generated energies (per-pixel mean squared error "
            "of images in [-1, 1])")),
        Setting("loss.pull_away_weight", "pull_away_weight", Key(
            0.1, "float", low=0.0, doc="weight of the pull-away term in G's loss; 0: plain "
            "EBGAN")),
    )
    resolve_settings = staticmethod(resolve_settings)

    def default_optimizer(self, network):
        """Adam(1e-3, beta_1=0.5, beta_2=0.999) (the paper's Adam settings)."""
        return keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.999)

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, margin=1.0,
                pull_away_weight=0.1, **kwargs):
        """Configures training.

        Args:
            generator_optimizer, discriminator_optimizer: Keras optimizers (or names);
                None: `default_optimizer`.
            margin: the margin m > 0 (in the units of `tfgans.losses.ebgan_energy`).
            pull_away_weight: the weight of the pull-away term (0.1 in the paper).
            **kwargs: `keras.Model.compile`'s `jit_compile`, `steps_per_execution`,
                `run_eagerly`.
        """
        settings = resolve_settings(margin, pull_away_weight)
        super().compile({"generator": generator_optimizer,
                         "discriminator": discriminator_optimizer}, **kwargs)
        self.margin, self.pull_away_weight = settings["margin"], settings["pull_away_weight"]
        self.training_settings = settings
        self._compile_config = serialization_lib.SerializableDict(
            generator_optimizer=self.generator_optimizer,
            discriminator_optimizer=self.discriminator_optimizer, **settings, **kwargs)

    def energies(self, images, training=True):
        """(energy per example [B], codes) of `images` under the discriminator."""
        reconstruction, codes = self.autoencode(images, training=training)
        return energy.ebgan_energy(images, reconstruction), codes

    @staticmethod
    def pull_away(codes):
        """(f_PT of the global batch's codes, the loss to differentiate) in a replica's step.

        On one replica both are `tfgans.losses.pull_away_term(codes)`. On R replicas the
        value is the term over all N = R * n codes (each replica's unit codes gathered,
        forward only), and the loss to differentiate is `f_PT + s - stop_gradient(s)` with
        the surrogate `s = R * 2 / (N (N - 1)) * sum_{i local, j != i} (u_i . sg(u_j))^2`:
        its gradient with respect to a local unit code u_i is R times the global term's
        (`4 / (N (N - 1)) * sum_{j != i} (u_i . u_j) u_j`), which the 1 / R loss scaling
        and the sum over replicas turn into the global gradient, with no collective in the
        backward pass.
        """
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        if replicas == 1:
            pull_away = energy.pull_away_term(codes)
            return pull_away, pull_away
        unit = energy.unit_codes(codes)
        everyone = context.all_gather(tf.stop_gradient(unit), axis=0)  # [N, d], in order
        pull_away = energy.pull_away_term(everyone)
        n = tf.cast(tf.shape(everyone)[0], tf.float32)
        cosine = tf.matmul(unit, everyone, transpose_b=True)  # [n local, N]
        own = tf.reduce_sum(unit * tf.stop_gradient(unit), axis=1)  # the diagonal terms
        local = tf.reduce_sum(tf.square(cosine)) - tf.reduce_sum(tf.square(own))
        surrogate = float(replicas) * 2.0 * tf.math.divide_no_nan(local, n * (n - 1.0))
        return pull_away, pull_away + surrogate - tf.stop_gradient(surrogate)

    def train_step(self, data):
        real = self.real_images(data)
        batch = real.shape[0] or tf.shape(real)[0]
        step = self.step

        fake = tf.stop_gradient(tf.cast(
            self.generator(self.step_noise(step, D_STREAM, batch), training=True), tf.float32))
        with tf.GradientTape() as tape:
            real_energy, _ = self.energies(real)
            fake_energy, _ = self.energies(fake)
            d_loss = energy.ebgan_discriminator_loss(real_energy, fake_energy, self.margin)
            total = d_loss + network_losses(self.discriminator)
            scaled = self.scale_loss(total, "discriminator")
        d_finite = self.apply_gradients("discriminator", scaled, tape, tf.math.is_finite(total))

        noise = self.step_noise(step, G_STREAM, batch)
        with tf.GradientTape() as tape:
            g_energy, codes = self.energies(
                tf.cast(self.generator(noise, training=True), tf.float32))
            pull_away, pull_away_to_differentiate = self.pull_away(codes)
            energy_loss = energy.ebgan_generator_loss(g_energy)
            g_loss = energy_loss + self.pull_away_weight * pull_away
            total = (energy_loss + self.pull_away_weight * pull_away_to_differentiate
                     + network_losses(self.generator))
            scaled = self.scale_loss(total, "generator")
        g_finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(total))
        self.update_ema(step)
        finite = tf.logical_and(d_finite, g_finite)
        return self.track({
            "d_loss": d_loss, "g_loss": g_loss, "pull_away": pull_away,
            "d_real": tf.reduce_mean(real_energy), "d_fake": tf.reduce_mean(fake_energy),
            "nonfinite": 1.0 - tf.cast(finite, tf.float32),
        })

    def evaluation_logs(self, real, fake):
        real_energy, _ = self.energies(real, False)
        fake_energy, codes = self.energies(fake, False)
        return {
            "d_loss": energy.ebgan_discriminator_loss(real_energy, fake_energy, self.margin),
            "g_loss": energy.ebgan_generator_loss(fake_energy)
            + self.pull_away_weight * energy.pull_away_term(codes),
            "d_real": tf.reduce_mean(real_energy), "d_fake": tf.reduce_mean(fake_energy),
        }
