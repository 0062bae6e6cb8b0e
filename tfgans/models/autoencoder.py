"""Auto-encoder discriminators and their generators: BEGAN's and EBGAN's networks.

An auto-encoder discriminator is called on images and returns `(reconstruction, codes)`:
the reconstruction (same shape as the images) whose error is the energy, and the
encoder's codes (BEGAN's embedding h, EBGAN's last encoder feature map, which feeds the
pull-away term). The trainers (`tfgans.training.BEGAN`, `tfgans.training.EBGAN`) compute
the losses from them (`tfgans.losses.energy`).

Sizes as the other convolutional families: 28x28 (7 -> 14 -> 28), 32x32 and 64x64
(4 -> ... -> size), any number of channels.

Example:
>>> g, d = build_began((28, 28, 1), latent_dim=8, width=4)
>>> reconstruction, codes = d(g(keras.random.normal((2, 8))))
>>> tuple(reconstruction.shape), tuple(codes.shape)
((2, 28, 28, 1), (2, 64))

References: [BEGAN](https://arxiv.org/abs/1703.10717), [EBGAN](https://arxiv.org/abs/1609.03126).
"""

import keras

from tfgans.models import common
from tfgans.models.dcgan import DCGANGenerator


def _conv(filters, strides=1, activation="elu", dtype=None, name=None):
    return keras.layers.Conv2D(filters, 3, strides=strides, padding="same",
                               activation=activation, dtype=dtype, name=name)


def _check_unconditional(name, num_classes):
    if num_classes is not None:
        raise ValueError(
            f"{name} is unconditional: build it with num_classes=None (config: data.labels "
            f"false). Received: num_classes={num_classes!r}"
        )


class _BEGANDecoderStack(keras.layers.Layer):
    """BEGAN's decoder: a dense map of h to `start x start x width`, then per scale two 3x3
    ELU convolutions and a nearest-neighbour upsampling (none after the last scale), then a
    3x3 convolution to the image channels (linear)."""

    def __init__(self, image_shape, width, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(image_shape)
        self.width = width
        dtype = self.dtype_policy
        start = common.START_SIZES[self.image_shape[0]]
        ups = common.num_resamplings(self.image_shape)
        self.project = keras.layers.Dense(start * start * width, dtype=dtype, name="project")
        self.reshape = keras.layers.Reshape((start, start, width), dtype=dtype)
        self.blocks = []
        for i in range(ups + 1):
            self.blocks += [_conv(width, dtype=dtype), _conv(width, dtype=dtype)]
            if i < ups:
                self.blocks.append(
                    keras.layers.UpSampling2D(2, interpolation="nearest", dtype=dtype))
        self.to_image = _conv(self.image_shape[-1], activation=None, dtype=dtype, name="to_image")

    def call(self, h):
        x = self.reshape(self.project(h))
        for layer in self.blocks:
            x = layer(x)
        return self.to_image(x)


@keras.saving.register_keras_serializable(package="tfgans")
class BEGANGenerator(keras.Model):
    """BEGAN's generator: noise z to an image in [-1, 1], the architecture of its
    discriminator's decoder (Berthelot et al. 2017, figure 1) with a tanh output, as
    every tfgans generator's (the paper's output is linear).

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: size of z (the paper's N_z, 64).
        width: filters of every convolution (the paper's n).

    Call arguments:
        inputs: noise float [batch, latent_dim].

    Returns:
        Images float32 [batch, *image_shape] in [-1, 1].

    Reference: https://arxiv.org/abs/1703.10717
    """

    def __init__(self, image_shape, latent_dim=64, width=64, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.latent_dim = common.check_positive_int("latent_dim", latent_dim)
        self.width = common.check_positive_int("width", width)
        self.decoder = _BEGANDecoderStack(self.image_shape, self.width, dtype=self.dtype_policy,
                                          name="decoder")
        self.tanh = keras.layers.Activation("tanh", dtype="float32", name="tanh")

    def call(self, inputs, training=None):
        common.check_shape(self, inputs, "noise", (self.latent_dim,))
        return self.tanh(self.decoder(inputs))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "latent_dim": self.latent_dim, "width": self.width}


@keras.saving.register_keras_serializable(package="tfgans")
class BEGANDiscriminator(keras.Model):
    """BEGAN's auto-encoder discriminator (Berthelot et al. 2017, figure 1).

    Encoder: a 3x3 ELU convolution, then per scale two 3x3 ELU convolutions and a
    stride-2 3x3 convolution (the downsampling), the filters growing linearly (n, 2n,
    3n, ...), then a dense map to the embedding h (linear). Decoder: as the generator,
    with a linear output. The energy is the L1 reconstruction error (the trainer's).

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        embedding_dim: size of h (the paper's N_h, 64).
        width: the paper's n.

    Call arguments:
        inputs: images [batch, *image_shape] in [-1, 1].

    Returns:
        `(reconstruction, codes)`: float32 [batch, *image_shape] and [batch, embedding_dim].

    Reference: https://arxiv.org/abs/1703.10717
    """

    def __init__(self, image_shape, embedding_dim=64, width=64, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.embedding_dim = common.check_positive_int("embedding_dim", embedding_dim)
        self.width = common.check_positive_int("width", width)
        dtype = self.dtype_policy
        downs = common.num_resamplings(self.image_shape)
        n = self.width
        self.encoder_layers = [_conv(n, dtype=dtype)]
        for i in range(downs + 1):
            self.encoder_layers += [_conv(n * (i + 1), dtype=dtype),
                                    _conv(n * (i + 1), dtype=dtype)]
            if i < downs:
                self.encoder_layers.append(_conv(n * (i + 2), strides=2, dtype=dtype))
        self.flatten = keras.layers.Flatten(dtype=dtype)
        self.embed = keras.layers.Dense(self.embedding_dim, dtype=dtype, name="embedding")
        self.decoder = _BEGANDecoderStack(self.image_shape, n, dtype=dtype, name="decoder")

    def call(self, inputs, training=None):
        common.check_shape(self, inputs, "images", self.image_shape)
        x = inputs
        for layer in self.encoder_layers:
            x = layer(x)
        h = self.embed(self.flatten(x))
        return keras.ops.cast(self.decoder(h), "float32"), keras.ops.cast(h, "float32")

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "embedding_dim": self.embedding_dim, "width": self.width}


@keras.saving.register_keras_serializable(package="tfgans")
class EBGANDiscriminator(keras.Model):
    """EBGAN's auto-encoder discriminator (Zhao et al. 2017, appendix: the convolutional
    auto-encoder of its LSUN / CelebA models, scaled to the image size).

    Encoder: stride-2 4x4 convolutions, `width * 2**i` filters, batch norm (but on the
    first) and LeakyReLU(0.2), down to the start size (7 for 28 px, 4 for 32 / 64 px);
    its last feature map is the code. Decoder: the mirror, stride-2 4x4 transposed
    convolutions with batch norm and LeakyReLU, the last to the image channels (linear).

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        width: filters of the first encoder layer.
        synchronized_bn: batch statistics of the global batch across replicas.

    Call arguments:
        inputs: images [batch, *image_shape] in [-1, 1].
        training: batch normalization mode.

    Returns:
        `(reconstruction, codes)`: float32 [batch, *image_shape] and the code feature map
        [batch, start, start, width * 2**(n - 1)].

    Reference: https://arxiv.org/abs/1609.03126
    """

    def __init__(self, image_shape, width=64, synchronized_bn=False, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.width = common.check_positive_int("width", width)
        self.synchronized_bn = common.check_bool("synchronized_bn", synchronized_bn)
        dtype = self.dtype_policy
        n = common.num_resamplings(self.image_shape)
        filters = [self.width * 2**i for i in range(n)]

        def conv(f, transpose=False, name=None):
            cls = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
            return cls(f, 4, strides=2, padding="same", dtype=dtype, name=name,
                       kernel_initializer=keras.initializers.RandomNormal(stddev=0.02))

        def norm():
            return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5,
                                                   synchronized=synchronized_bn, dtype=dtype)

        self.encoder_convs = [conv(f) for f in filters]
        self.encoder_norms = [None] + [norm() for _ in filters[1:]]
        self.decoder_convs = [conv(f, transpose=True) for f in reversed(filters[:-1])]
        self.decoder_norms = [norm() for _ in filters[:-1]]
        self.to_image = conv(self.image_shape[-1], transpose=True, name="to_image")
        self.leaky = keras.layers.LeakyReLU(0.2, dtype=dtype)

    def call(self, inputs, training=None):
        common.check_shape(self, inputs, "images", self.image_shape)
        x = inputs
        for conv, norm in zip(self.encoder_convs, self.encoder_norms):
            x = conv(x)
            x = self.leaky(x if norm is None else norm(x, training=training))
        codes = x
        for conv, norm in zip(self.decoder_convs, self.decoder_norms):
            x = self.leaky(norm(conv(x), training=training))
        reconstruction = self.to_image(x)
        return keras.ops.cast(reconstruction, "float32"), keras.ops.cast(codes, "float32")

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "width": self.width,
                "synchronized_bn": self.synchronized_bn}


def build_began(image_shape, latent_dim=64, num_classes=None, width=64, embedding_dim=64):
    """BEGAN's networks: `(BEGANGenerator, BEGANDiscriminator)` (unconditional)."""
    _check_unconditional("BEGAN", num_classes)
    generator = BEGANGenerator(image_shape, latent_dim, width, name="generator")
    discriminator = BEGANDiscriminator(image_shape, embedding_dim, width, name="discriminator")
    return generator, discriminator


def build_ebgan(image_shape, latent_dim=100, num_classes=None, width=64, synchronized_bn=False):
    """EBGAN's networks: a DCGAN generator and an `EBGANDiscriminator` (unconditional)."""
    _check_unconditional("EBGAN", num_classes)
    generator = DCGANGenerator(image_shape, latent_dim, width, synchronized_bn=synchronized_bn,
                               name="generator")
    discriminator = EBGANDiscriminator(image_shape, width, synchronized_bn=synchronized_bn,
                                       name="discriminator")
    return generator, discriminator
