"""`AutoEncoderGAN`: the noise -> image trainers whose discriminator is an auto-encoder
(BEGAN, EBGAN). What they share: the networks' call contract, the stateless noise, and how
they sample, evaluate and export (as `tfgans.GAN`: `serving_default` noise -> images,
`generate` with PNG bytes). Each subclass writes its `train_step` from
`tfgans.losses.energy`.

The discriminator is called as `D(images)` and returns `(reconstruction, codes)`
(`tfgans.models.BEGANDiscriminator`, `EBGANDiscriminator`); the generator as `G(noise)`.
Both are unconditional: a batch is `images`, or `(images, labels)` whose labels are not
used.
"""

import re
import warnings

import numpy as np
import tensorflow as tf

from tfgans.training import noise as noise_lib
from tfgans.training.gan import check_truncation, infer_latent_dim, sample_noise, unpack_batch
from tfgans.training.trainer import ExportSpec, Trainer, check_global_batch, first_batch

# Streams of the (seed, step, stream) noise keys: the discriminator update draws z_D, the
# generator update z_G (sub-stream NOISE of each).
D_STREAM = 0
G_STREAM = 1000
NOISE = 0
_EVAL_STREAM = 7


class AutoEncoderGAN(Trainer):
    """The base of the auto-encoder-discriminator trainers (noise -> image).

    Args:
        generator: a Keras model mapping noise [B, latent_dim] to images in [-1, 1].
        discriminator: a Keras model mapping images to `(reconstruction, codes)`.
        latent_dim: size of the noise; None: the generator's `latent_dim` (or functional
            input size).
        ema_decay: if set (e.g. 0.999), an EMA of the generator samples and is exported.
        seed: the seed every training draw derives from.
    """

    family = "noise_to_image"
    TRAINED = ("generator", "discriminator")
    #: Trackers of the family's step, in order (subclasses set them).
    TRACKERS = ()

    def __init__(self, generator, discriminator, latent_dim=None, ema_decay=None, seed=0,
                 **kwargs):
        if ema_decay == 0:
            ema_decay = None
        super().__init__({"generator": generator, "discriminator": discriminator},
                         trained=self.TRAINED, ema_networks=("generator",),
                         ema_decay=ema_decay, seed=seed, **kwargs)
        latent_dim = infer_latent_dim(generator, latent_dim)
        if int(latent_dim) <= 0:
            raise ValueError(f"`latent_dim` must be positive. Received: latent_dim={latent_dim}")
        self.latent_dim = int(latent_dim)
        self.num_classes = None
        self.ema_generator = None
        self.add_trackers(list(self.TRACKERS) + ["nonfinite"])
        self._build_networks()

    def _contract_error(self, what, cause):
        cause = re.sub(r"\x1b\[[0-9;]*m", "", " ".join(str(cause).split()))[:300]
        return ValueError(
            f"{type(self).__name__} calls the generator as G(noise) with noise float32 [batch, "
            f"latent_dim={self.latent_dim}], expecting images [batch, height, width, channels] "
            "in [-1, 1], and the auto-encoder discriminator as D(images), expecting "
            "(reconstruction, codes) with the reconstruction shaped as the images "
            f"(tfgans.models.BEGANDiscriminator, EBGANDiscriminator). The {what} does not "
            f"fit: {cause}"
        )

    def _build_networks(self):
        """Creates every variable now (in the current strategy scope) and checks the call
        contract with one clear error."""
        noise = tf.zeros([2, self.latent_dim])
        try:
            images = self.generator(noise, training=False)
        except Exception as e:  # noqa: BLE001 - re-raised with the contract
            raise self._contract_error("generator", e) from e
        if len(getattr(images, "shape", ())) != 4:
            raise self._contract_error("generator", f"G(noise) returned {images!r:.100}")
        try:
            outputs = self.discriminator(images, training=False)
        except Exception as e:  # noqa: BLE001
            raise self._contract_error("discriminator", e) from e
        if not (isinstance(outputs, (tuple, list)) and len(outputs) == 2
                and tuple(outputs[0].shape) == tuple(images.shape)):
            raise self._contract_error(
                "discriminator", f"D(images {tuple(images.shape)}) returned "
                f"{[tuple(getattr(o, 'shape', ())) for o in tf.nest.flatten(outputs)]}")
        self.image_shape = tuple(int(s) for s in images.shape[1:])
        self.make_ema_copies({"generator": noise})
        self.built = True

    def call(self, inputs, training=False):
        """Generates images from noise, like `generator(inputs)`."""
        return self.generator(inputs, training=training)

    @property
    def generator_optimizer(self):
        return self._optimizers["generator"]

    @property
    def discriminator_optimizer(self):
        return self._optimizers["discriminator"]

    @property
    def inference_generator(self):
        """The generator used for sampling and export: the EMA copy when EMA is on."""
        return self.inference_network("generator")

    # ------------------------------------------------------------------------- the step

    def step_noise(self, step, stream, batch):
        """This replica's rows of the noise drawn for the global batch at (seed, step,
        stream): `D_STREAM` for the discriminator update, `G_STREAM` for the generator's."""
        key = self.noise_key(step, stream, NOISE)
        global_noise = noise_lib.normal([batch * noise_lib.num_replicas(), self.latent_dim], key)
        return noise_lib.replica_slice(global_noise, batch)

    def autoencode(self, images, training=True):
        """The discriminator's `(reconstruction, codes)` of `images`, float32."""
        reconstruction, codes = self.discriminator(images, training=training)
        return tf.cast(reconstruction, tf.float32), tf.cast(codes, tf.float32)

    @staticmethod
    def real_images(data):
        images, _ = unpack_batch(data)
        return tf.cast(images, tf.float32)

    # ---------------------------------------------------------------------- the contract

    def check_batch(self, element_spec):
        images, _ = unpack_batch(element_spec)
        if not isinstance(images, tf.TensorSpec) or images.shape.rank != 4:
            raise ValueError(
                f"{type(self).__name__} trains on image batches [batch, height, width, "
                f"channels] (or (images, labels), labels unused). Received element_spec: "
                f"{element_spec}"
            )
        batch = images.shape[0]
        check_global_batch(batch, self.distribute_strategy.num_replicas_in_sync)
        return batch

    def check_data(self, data, batch_size=None):
        """Images outside [-1, 1] in the first batch get a warning."""
        batch = first_batch(data, batch_size)
        if batch is None:
            return
        images = np.asarray(unpack_batch(batch)[0])
        if images.size and np.issubdtype(images.dtype, np.number):
            low, high = float(np.min(images)), float(np.max(images))
            if low < -1.0 - 1e-3 or high > 1.0 + 1e-3:
                warnings.warn(
                    f"The first batch's images lie in [{low:g}, {high:g}], but tfgans expects "
                    "[-1, 1] (the generator's tanh range): scale them, e.g. "
                    "images / 127.5 - 1 for uint8 pixels.", stacklevel=3)

    def generate(self, num_samples=64, seed=0, labels=None, batch_size=256, truncation=None):
        """Samples images in [-1, 1] from the (EMA) generator; sample i depends only on
        (seed, i), as `tfgans.GAN.generate` (whose noise it draws), and on `truncation`
        (None, or t > 0: noise truncated to [-t, t])."""
        if int(num_samples) <= 0:
            raise ValueError(f"`num_samples` must be positive. Received: num_samples={num_samples}")
        if labels is not None:
            raise ValueError(f"`labels` were given, but {type(self).__name__} is not "
                             "conditional.")
        num_samples = int(num_samples)
        noise = sample_noise(num_samples, self.latent_dim, seed, check_truncation(truncation))
        outputs = [
            tf.cast(self.inference_generator(noise[s:s + batch_size], training=False),
                    tf.float32).numpy()
            for s in range(0, num_samples, batch_size)
        ]
        return np.concatenate(outputs, axis=0)

    def sample(self, num_samples=64, seed=0, labels=None, truncation=None):
        """`generate(num_samples, seed, labels, truncation=truncation)`."""
        return self.generate(num_samples=num_samples, seed=seed, labels=labels,
                             truncation=truncation)

    def sample_grid(self, num_images, seed=0):
        from tfgans.callbacks import grid_layout  # the layout is the callbacks' business

        _, columns = grid_layout(num_images, None)
        return self.generate(num_samples=num_images, seed=seed), columns

    def evaluation_samples(self, num_samples, seed=0):
        return self.generate(num_samples=num_samples, seed=seed), None

    def export_spec(self):
        return ExportSpec("noise_to_image", self.inference_generator,
                          {"latent_dim": self.latent_dim, "num_classes": None})

    def settings(self):
        return {**super().settings(), "latent_dim": self.latent_dim, "num_classes": None,
                "image_shape": list(self.image_shape),
                **getattr(self, "training_settings", {})}

    def test_step(self, data):
        """The family's losses on a batch (`evaluation_logs`), updating nothing."""
        real = self.real_images(data)
        batch = real.shape[0] or tf.shape(real)[0]
        noise = self.step_noise(tf.constant(0, tf.int64), _EVAL_STREAM, batch)
        fake = tf.cast(self.generator(noise, training=False), tf.float32)
        logs = self.evaluation_logs(real, fake)
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        return {name: self._trackers[name].result() for name in logs}

    def evaluation_logs(self, real, fake):
        """{tracker: value} of the family's losses on real and generated images."""
        raise NotImplementedError
