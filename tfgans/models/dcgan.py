"""DCGAN generator and discriminator, unconditional or class-conditional.

Reference: [Radford et al., 2015, Unsupervised Representation Learning with Deep
Convolutional GANs](https://arxiv.org/abs/1511.06434).
"""

import keras
from keras import ops

from tfgans.layers import (DiscriminatorHead, MinibatchDiscrimination,
                           VirtualBatchNormalization, maybe_spectral_norm)
from tfgans.models import common


def _weights_init():
    # N(0, 0.02) for every kernel, as in the DCGAN paper.
    return keras.initializers.RandomNormal(stddev=0.02)


@keras.saving.register_keras_serializable(package="tfgans")
class DCGANGenerator(keras.Model):
    """DCGAN generator: noise (and a label) to an image in [-1, 1].

    A dense layer maps the noise to a small feature map (7x7 for 28x28 images, 4x4 for
    32x32 and 64x64) that stride-2 transposed convolutions double in size, each but the
    last followed by batch normalization and ReLU, halving the filters down to `width`.
    The last one outputs `image_shape[-1]` channels through tanh (computed in float32).

    When `num_classes` is set the generator is conditional (Mirza & Osindero, 2014): it is
    called on `[noise, labels]` and a learned label embedding is concatenated to the noise.

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: size of the noise vector.
        width: filters of the last hidden layer; the first has `width * 2**(n - 1)` for
            n upsamplings (DCGAN's 64x64 generator is `width=128`).
        num_classes: number of classes for a conditional generator, or None.
        embedding_dim: size of the label embedding (conditional generators only).
        synchronized_bn: synchronize batch statistics across replicas
            (`keras.layers.BatchNormalization(synchronized=...)`).
        virtual_batch_norm: virtual batch normalisation (Salimans et al. 2016) instead of
            batch normalisation: each example is normalised with the statistics of a fixed
            reference batch (`reference_size` noise vectors drawn once, kept as a
            non-trainable weight, forwarded with every call) plus itself, so an output
            does not depend on the rest of its batch.
        reference_size: the reference batch's size (virtual batch norm only).
        **kwargs: base model arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: noise float [batch, latent_dim], or `[noise, labels]` with int labels
            [batch] when conditional.
        training: batch normalization mode.

    Returns:
        Images float32 [batch, *image_shape] in [-1, 1].

    Example:
    >>> g = DCGANGenerator((28, 28, 1), latent_dim=16, width=8)
    >>> tuple(g(keras.random.normal((2, 16))).shape)
    (2, 28, 28, 1)

    Reference:
        [DCGAN](https://arxiv.org/abs/1511.06434),
        [Conditional GANs](https://arxiv.org/abs/1411.1784).
    """

    def __init__(
        self,
        image_shape,
        latent_dim=128,
        width=64,
        num_classes=None,
        embedding_dim=50,
        synchronized_bn=False,
        virtual_batch_norm=False,
        reference_size=32,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.latent_dim = common.check_positive_int("latent_dim", latent_dim)
        self.virtual_batch_norm = common.check_bool("virtual_batch_norm", virtual_batch_norm)
        self.reference_size = common.check_positive_int("reference_size", reference_size)
        self.width = common.check_positive_int("width", width)
        self.num_classes = common.check_positive_int("num_classes", num_classes, True)
        self.embedding_dim = common.check_positive_int("embedding_dim", embedding_dim)
        self.synchronized_bn = common.check_bool("synchronized_bn", synchronized_bn)

        dtype = self.dtype_policy
        n = common.num_resamplings(self.image_shape)
        start = common.START_SIZES[self.image_shape[0]]
        filters = [self.width * 2**i for i in reversed(range(n))]

        def batch_norm():
            if self.virtual_batch_norm:
                return VirtualBatchNormalization(epsilon=1e-5, dtype=dtype)
            return keras.layers.BatchNormalization(
                momentum=0.9, epsilon=1e-5, synchronized=synchronized_bn, dtype=dtype
            )

        self.embedding = None
        if self.num_classes is not None:
            self.embedding = keras.layers.Embedding(
                self.num_classes, self.embedding_dim, dtype=dtype, name="label_embedding"
            )
        self.project = keras.layers.Dense(
            start * start * filters[0], use_bias=False, kernel_initializer=_weights_init(),
            dtype=dtype, name="project",
        )
        self.project_bn = batch_norm()
        self.reshape = keras.layers.Reshape((start, start, filters[0]), dtype=dtype)
        self.up_convs = []
        self.up_bns = []
        for f in filters[1:]:
            self.up_convs.append(
                keras.layers.Conv2DTranspose(
                    f, 4, strides=2, padding="same", use_bias=False,
                    kernel_initializer=_weights_init(), dtype=dtype,
                )
            )
            self.up_bns.append(batch_norm())
        self.to_image = keras.layers.Conv2DTranspose(
            self.image_shape[-1], 4, strides=2, padding="same",
            kernel_initializer=_weights_init(), dtype=dtype, name="to_image",
        )
        self.tanh = keras.layers.Activation("tanh", dtype="float32", name="tanh")
        self.reference_noise = None
        if self.virtual_batch_norm:
            self.reference_noise = self.add_weight(
                name="reference_noise", shape=(self.reference_size, self.latent_dim),
                initializer=keras.initializers.RandomNormal(), trainable=False,
            )

    @property
    def output_shape_(self):
        """The shape of one generated image, without the batch dimension."""
        return self.image_shape

    def call(self, inputs, training=None):
        x = common.generator_input(self, inputs)
        if self.virtual_batch_norm:
            return self._call_virtual(x)
        x = ops.relu(self.project_bn(self.project(x), training=training))
        x = self.reshape(x)
        for conv, bn in zip(self.up_convs, self.up_bns):
            x = ops.relu(bn(conv(x), training=training))
        return self.tanh(self.to_image(x))

    def _call_virtual(self, x):
        """The paper's VBN: the reference batch goes through the same layers; each layer
        normalises x with the reference's statistics plus x's own, and the reference with
        its own."""
        noise = ops.cast(self.reference_noise, x.dtype)
        ref_inputs = noise
        if self.num_classes is not None:
            labels = ops.arange(self.reference_size, dtype="int32") % self.num_classes
            ref_inputs = [noise, labels]
        ref = common.generator_input(self, ref_inputs)
        layers = [(self.project, self.project_bn)] + list(zip(self.up_convs, self.up_bns))
        for i, (layer, norm) in enumerate(layers):
            h, h_ref = layer(x), layer(ref)
            x = ops.relu(norm(h, reference=h_ref))
            ref = ops.relu(norm.normalize_reference(h_ref))
            if i == 0:
                x, ref = self.reshape(x), self.reshape(ref)
        return self.tanh(self.to_image(x))

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "latent_dim": self.latent_dim,
            "width": self.width,
            "num_classes": self.num_classes,
            "embedding_dim": self.embedding_dim,
            "synchronized_bn": self.synchronized_bn,
            "virtual_batch_norm": self.virtual_batch_norm,
            "reference_size": self.reference_size,
        }


@keras.saving.register_keras_serializable(package="tfgans")
class DCGANDiscriminator(keras.Model):
    """DCGAN discriminator: an image (and a label) to a real/fake logit.

    Stride-2 4x4 convolutions with LeakyReLU(0.2), doubling the filters from `width`,
    down to the generator's starting size, then a dense layer to one logit (in float32;
    higher means "real"). No batch normalization, so it can be trained with a gradient
    penalty (WGAN-GP); `spectral_norm=True` wraps every convolution and dense layer in
    `keras.layers.SpectralNormalization` (SN-GAN).

    Conditioning, when `num_classes` is set:
    - `"projection"` (default; Miyato & Koyama, 2018): called on `[images, labels]`,
      `logit = psi(phi(x)) + <embed(y), phi(x)>` over the flattened features `phi(x)`.
    - `"concat"`: called on `[images, labels]`; a label embedding of `embedding_dim`
      values is broadcast over the image as extra input channels.
    - `"acgan"` (Odena et al., 2017): called on images alone; returns
      `[logits [batch, 1], class_logits [batch, num_classes]]`.

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        width: filters of the first convolution.
        num_classes: number of classes for a conditional discriminator, or None.
        conditioning: None, "concat", "projection" or "acgan"; None means "projection"
            when `num_classes` is set.
        embedding_dim: label embedding channels for "concat" conditioning.
        spectral_norm: spectrally normalize every convolution and dense layer.
        minibatch_kernels: B > 0 appends minibatch discrimination's B closeness features
            (Salimans et al. 2016; `tfgans.layers.MinibatchDiscrimination`) to the
            flattened features before the head; 0: none.
        minibatch_kernel_dim: C, each kernel's projection size.
        **kwargs: base model arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: images float [batch, *image_shape], or `[images, labels]` for "concat"
            and "projection" conditioning.
        training: whether spectral normalization updates its power iteration.

    Returns:
        Logits float32 [batch, 1], or `[logits, class_logits]` for "acgan".

    Example:
    >>> d = DCGANDiscriminator((32, 32, 3), width=8, num_classes=10)
    >>> tuple(d([keras.random.normal((2, 32, 32, 3)), keras.ops.array([1, 7])]).shape)
    (2, 1)

    Reference:
        [DCGAN](https://arxiv.org/abs/1511.06434),
        [Projection discriminator](https://arxiv.org/abs/1802.05637),
        [AC-GAN](https://arxiv.org/abs/1610.09585),
        [Spectral normalization](https://arxiv.org/abs/1802.05957).
    """

    def __init__(
        self,
        image_shape,
        width=64,
        num_classes=None,
        conditioning=None,
        embedding_dim=16,
        spectral_norm=False,
        minibatch_kernels=0,
        minibatch_kernel_dim=5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.width = common.check_positive_int("width", width)
        if isinstance(minibatch_kernels, bool) or not isinstance(minibatch_kernels, int) or (
                minibatch_kernels < 0):
            raise ValueError("`minibatch_kernels` must be an integer >= 0 (0: none). "
                             f"Received: minibatch_kernels={minibatch_kernels!r}")
        self.minibatch_kernels = minibatch_kernels
        self.minibatch_kernel_dim = common.check_positive_int(
            "minibatch_kernel_dim", minibatch_kernel_dim)
        self.num_classes = common.check_positive_int("num_classes", num_classes, True)
        self.conditioning = common.check_conditioning(
            self.num_classes, conditioning, default="projection"
        )
        self.embedding_dim = common.check_positive_int("embedding_dim", embedding_dim)
        self.spectral_norm = common.check_bool("spectral_norm", spectral_norm)

        dtype = self.dtype_policy
        n = common.num_resamplings(self.image_shape)
        self.embedding = None
        if self.conditioning == "concat":
            self.embedding = keras.layers.Embedding(
                self.num_classes, self.embedding_dim, dtype=dtype, name="label_embedding"
            )
        self.convs = [
            maybe_spectral_norm(
                keras.layers.Conv2D(
                    self.width * 2**i, 4, strides=2, padding="same",
                    kernel_initializer=_weights_init(), dtype=dtype,
                ),
                spectral_norm,
            )
            for i in range(n)
        ]
        self.flatten = keras.layers.Flatten(dtype=dtype)
        self.minibatch = None
        if self.minibatch_kernels:
            self.minibatch = MinibatchDiscrimination(
                self.minibatch_kernels, self.minibatch_kernel_dim,
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.05), dtype=dtype,
                name="minibatch_discrimination",
            )
        self.head = DiscriminatorHead(
            self.num_classes, self.conditioning, spectral_norm, dtype="float32", name="head"
        )

    @property
    def with_labels(self):
        """Whether the discriminator is called on `[images, labels]`."""
        return self.conditioning in ("concat", "projection")

    def call(self, inputs, training=None):
        return self.call_with_features(inputs, training=training)[0]

    def call_with_features(self, inputs, training=None):
        """The outputs and the intermediate features: `(outputs, [the activation of each
        convolution, bottom to top])`, for feature matching (`loss.feature_matching`)."""
        images, labels = common.split_inputs(self, inputs, "images", self.with_labels)
        common.check_shape(self, images, "images", self.image_shape)
        x = images
        if self.embedding is not None:
            embedded = ops.cast(self.embedding(labels), x.dtype)[:, None, None, :]
            x = ops.concatenate([x, ops.ones_like(x[..., :1]) * embedded], axis=-1)
        features = []
        for conv in self.convs:
            x = ops.leaky_relu(conv(x, training=training), negative_slope=0.2)
            features.append(x)
        x = self.flatten(x)
        if self.minibatch is not None:
            x = self.minibatch(x)
        return self.head(x, labels, training=training), features

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "width": self.width,
            "num_classes": self.num_classes,
            "conditioning": self.conditioning,
            "embedding_dim": self.embedding_dim,
            "spectral_norm": self.spectral_norm,
            "minibatch_kernels": self.minibatch_kernels,
            "minibatch_kernel_dim": self.minibatch_kernel_dim,
        }


def build_dcgan(
    image_shape,
    latent_dim,
    num_classes=None,
    *,
    width=64,
    spectral_norm=False,
    conditioning=None,
    synchronized_bn=False,
    generator_embedding_dim=50,
    discriminator_embedding_dim=16,
    minibatch_kernels=0,
    minibatch_kernel_dim=5,
    virtual_batch_norm=False,
):
    """Builds a DCGAN generator and discriminator for `image_shape`.

    Call it inside `strategy.scope()` to create the models for a distribution strategy.

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: size of the noise vector.
        num_classes: number of classes for a conditional pair, or None.
        width: base filters of both networks.
        spectral_norm: spectrally normalize the discriminator.
        conditioning: the discriminator's conditioning (see `DCGANDiscriminator`).
        synchronized_bn: cross-replica batch normalization in the generator.
        generator_embedding_dim: label embedding size of a conditional generator.
        discriminator_embedding_dim: label channels of a "concat" discriminator.
        minibatch_kernels, minibatch_kernel_dim: minibatch discrimination in the
            discriminator (0 kernels: none).
        virtual_batch_norm: virtual batch normalisation in the generator.

    Returns:
        `(generator, discriminator)`.

    Example:
    >>> g, d = build_dcgan((28, 28, 1), latent_dim=16, width=8)
    >>> tuple(d(g(keras.random.normal((2, 16)))).shape)
    (2, 1)
    """
    generator = DCGANGenerator(
        image_shape, latent_dim, width=width, num_classes=num_classes,
        embedding_dim=generator_embedding_dim, synchronized_bn=synchronized_bn,
        virtual_batch_norm=virtual_batch_norm,
    )
    discriminator = DCGANDiscriminator(
        image_shape, width=width, num_classes=num_classes, conditioning=conditioning,
        embedding_dim=discriminator_embedding_dim, spectral_norm=spectral_norm,
        minibatch_kernels=minibatch_kernels, minibatch_kernel_dim=minibatch_kernel_dim,
    )
    return generator, discriminator
