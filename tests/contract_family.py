"""A second GAN family written only against `tfgans.training.Trainer`'s public contract:
paired image -> image translation (a tiny pix2pix). README, "Adding a GAN family", shows it.

Batches are `(source, target)`. The generator maps a source to an image; the discriminator
scores `(source, image)` pairs; the losses are the non-saturating pair plus `l1_weight`
times the L1 distance to the target (Isola et al. 2017).
"""

import keras
import numpy as np
import tensorflow as tf

import tfgans
from tfgans.settings import Key, Setting
from tfgans.training import ExportSpec, Trainer, check_global_batch


class PairedTranslation(Trainer):
    """Paired image -> image: `train_step` reads like the paper's loss list; scaling for the
    strategy, the finite guard, EMA and the checkpoint contents are the base's."""

    family = "image_to_image"
    TRAINED = ("generator", "discriminator")
    SETTINGS = (
        Setting("loss.l1_weight", "l1_weight", Key(100.0, "float", low=0.0, doc="L1 weight")),
        Setting("train.ema", "ema_decay", Key(None, "float", low=0.0, high=1.0, nullable=True)),
        Setting("train.seed", "seed", Key(0, "int", low=0)),
    )

    def __init__(self, generator, discriminator, image_shape, ema_decay=None, seed=0, **kwargs):
        super().__init__({"generator": generator, "discriminator": discriminator},
                         trained=self.TRAINED, ema_networks=("generator",),
                         ema_decay=ema_decay, seed=seed, **kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        source = tf.zeros([1, *self.image_shape])
        discriminator(tf.concat([source, generator(source)], -1))
        self.make_ema_copies({"generator": source})
        self.add_trackers(["d_loss", "g_loss", "l1", "nonfinite"])
        self.built = True

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, l1_weight=100.0,
                **kwargs):
        super().compile({"generator": generator_optimizer,
                         "discriminator": discriminator_optimizer}, **kwargs)
        self.l1_weight = float(l1_weight)

    def _pair(self, source, image):
        return tf.concat([source, image], axis=-1)

    def train_step(self, data):
        source, target = (tf.cast(x, tf.float32) for x in data)
        step = self.step
        fake = tf.stop_gradient(self.generator(source, training=True))
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(self._pair(source, target), training=True)
            fake_logits = self.discriminator(self._pair(source, fake), training=True)
            d_loss = tfgans.losses.modified_discriminator_loss(real_logits, fake_logits)
            scaled = self.scale_loss(d_loss, "discriminator")
        d_finite = self.apply_gradients("discriminator", scaled, tape, tf.math.is_finite(d_loss))
        with tf.GradientTape() as tape:
            fake = self.generator(source, training=True)
            adversarial = tfgans.losses.modified_generator_loss(
                self.discriminator(self._pair(source, fake), training=True))
            l1 = tf.reduce_mean(tf.abs(target - fake))
            g_loss = adversarial + self.l1_weight * l1
            scaled = self.scale_loss(g_loss, "generator")
        g_finite = self.apply_gradients("generator", scaled, tape, tf.math.is_finite(g_loss))
        self.update_ema(step)
        finite = tf.logical_and(d_finite, g_finite)
        return self.track({"d_loss": d_loss, "g_loss": g_loss, "l1": l1,
                           "nonfinite": 1.0 - tf.cast(finite, tf.float32)})

    def test_step(self, data):
        source, target = (tf.cast(x, tf.float32) for x in data)
        fake = self.inference_network("generator")(source, training=False)
        return self.track({"l1": tf.reduce_mean(tf.abs(target - fake))})

    # The rest of the contract.

    def check_batch(self, element_spec):
        if not (isinstance(element_spec, tuple) and len(element_spec) == 2
                and all(s.shape.rank == 4 for s in element_spec)):
            raise ValueError(f"Batches must be (source, target) images. Received: {element_spec}")
        batch = element_spec[0].shape[0]
        check_global_batch(batch, self.distribute_strategy.num_replicas_in_sync)
        return batch

    def sample(self, images):
        out = self.inference_network("generator")(tf.convert_to_tensor(images, tf.float32))
        return np.asarray(out, np.float32)

    def _sources(self, num, seed):
        rng = np.random.default_rng(seed)
        return rng.uniform(-1, 1, (num, *self.image_shape)).astype("float32")

    def sample_grid(self, num_images, seed=0):
        sources = self._sources(num_images, seed)
        return np.concatenate([sources, self.sample(sources)]), num_images

    def evaluation_samples(self, num_samples, seed=0):
        return self.sample(self._sources(num_samples, seed)), None

    def export_spec(self):
        return ExportSpec("image_to_image", self.inference_network("generator"),
                          {"image_shape": self.image_shape})


def networks(image_shape=(8, 8, 1)):
    """A 1x1-conv generator and a small conv discriminator of pairs."""
    generator = keras.Sequential([
        keras.Input(image_shape),
        keras.layers.Conv2D(8, 1, activation="relu"),
        keras.layers.Conv2D(image_shape[-1], 1, activation="tanh"),
    ], name="generator")
    discriminator = keras.Sequential([
        keras.Input((*image_shape[:2], 2 * image_shape[-1])),
        keras.layers.Conv2D(8, 3, strides=2, padding="same"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(1),
    ], name="discriminator")
    return generator, discriminator


def paired_data(num=32, image_shape=(8, 8, 1), seed=0):
    """Sources uniform in [-0.9, 0.9]; targets their negatives."""
    source = np.random.default_rng(seed).uniform(-0.9, 0.9, (num, *image_shape)).astype("float32")
    return source, -source
