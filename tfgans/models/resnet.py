"""ResNet generator and discriminator of SNGAN, the trunk that SAGAN and BigGAN share.

Reference: [Miyato et al., 2018, Spectral Normalization for Generative Adversarial
Networks](https://arxiv.org/abs/1802.05957) (appendix B.4, after the ResNets of
[Gulrajani et al., 2017](https://arxiv.org/abs/1704.00028)), with the class conditioning
of [Miyato & Koyama, 2018, cGANs with Projection Discriminator](
https://arxiv.org/abs/1802.05637).
"""

import keras
from keras import ops

from tfgans.layers import (
    ConditionalBatchNormalization,
    DiscriminatorHead,
    OffDiagonalOrthogonalRegularizer,
    SelfAttention,
    check_normalization,
    maybe_spectral_norm,
    normalize_layer,
)
from tfgans.models import common

#: How a generator block conditions its batch normalizations: not at all, on class ids
#: (SNGAN) or on a vector (BigGAN).
BN_CONDITIONS = (None, "labels", "vector")


def _batch_norm(dtype, synchronized, name):
    return keras.layers.BatchNormalization(
        momentum=0.9, epsilon=1e-5, synchronized=synchronized, dtype=dtype, name=name
    )


def attention_resolutions(image_shape):
    """The feature-map sizes where both a generator and a discriminator block end, so
    where `attention_resolution` may put self-attention: (14,) for 28x28 images,
    (8, 16) for 32x32, (8, 16, 32) for 64x64."""
    size = image_shape[0]
    n = common.num_resamplings(image_shape)
    generator = {common.START_SIZES[size] * 2**k for k in range(1, n + 1)}
    discriminator = {size // 2**k for k in range(1, n + 1)}
    return tuple(sorted(generator & discriminator))


def check_attention_resolution(image_shape, resolution):
    """Returns `resolution` if it is None or in `attention_resolutions(image_shape)`."""
    valid = attention_resolutions(image_shape)
    if resolution is not None and (isinstance(resolution, bool) or resolution not in valid):
        raise ValueError(
            f"`attention_resolution` must be None or one of {valid} for image_shape="
            f"{image_shape}. Received: attention_resolution={resolution!r}"
        )
    return None if resolution is None else int(resolution)


@keras.saving.register_keras_serializable(package="tfgans")
class ResidualGeneratorBlock(keras.layers.Layer):
    """A residual block that doubles the spatial size (pre-activation, SNGAN / BigGAN).

        h = conv3x3(relu(bn2(conv3x3(upsample(relu(bn1(x)))))))
        y = h + conv1x1(upsample(x))

    with nearest-neighbour 2x upsampling. The batch normalizations are plain, or
    `ConditionalBatchNormalization` on class ids ("labels") or on a vector ("vector").

    Args:
        filters: output channels.
        condition: one of `BN_CONDITIONS`.
        num_classes: number of classes, for `condition="labels"`.
        spectral_norm: spectrally normalize the convolutions (and the linear maps of
            "vector" conditional batch normalization).
        synchronized_bn: cross-replica batch moments.
        kernel_regularizer: regularizer of every kernel (convolutions and the linear maps
            of "vector" conditional batch normalization).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float [batch, H, W, C].
        condition: class ids [batch], a float vector [batch, d], or None, per `condition`.
        training: batch normalization mode and spectral normalization updates.

    Returns:
        float [batch, 2H, 2W, filters].
    """

    def __init__(
        self,
        filters,
        condition=None,
        num_classes=None,
        spectral_norm=False,
        synchronized_bn=False,
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if condition not in BN_CONDITIONS:
            raise ValueError(
                f"`condition` must be one of {BN_CONDITIONS}. Received: condition={condition!r}"
            )
        if (condition == "labels") != (num_classes is not None):
            raise ValueError(
                "`num_classes` is needed by, and only by, condition='labels'. Received: "
                f"condition={condition!r}, num_classes={num_classes!r}"
            )
        self.filters = filters
        self.condition = condition
        self.num_classes = num_classes
        self.spectral_norm = spectral_norm
        self.synchronized_bn = synchronized_bn
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

        dtype = self.dtype_policy

        def conv(size, name):
            layer = keras.layers.Conv2D(
                filters, size, padding="same", kernel_regularizer=self.kernel_regularizer,
                dtype=dtype, name=name,
            )
            return maybe_spectral_norm(layer, spectral_norm)

        def bn(name):
            if condition is None:
                return _batch_norm(dtype, synchronized_bn, name)
            vector = condition == "vector"
            return ConditionalBatchNormalization(
                num_classes, synchronized=synchronized_bn, spectral_norm=vector and spectral_norm,
                kernel_regularizer=self.kernel_regularizer if vector else None,
                dtype=dtype, name=name,
            )

        self.bn1 = bn("bn1")
        self.conv1 = conv(3, "conv1")
        self.bn2 = bn("bn2")
        self.conv2 = conv(3, "conv2")
        self.shortcut = conv(1, "shortcut")
        self.upsample = keras.layers.UpSampling2D(2, dtype=dtype)

    def build(self, inputs_shape, condition_shape=None):
        batch, height, width, channels = inputs_shape
        upsampled = (batch, 2 * height, 2 * width)
        condition = () if self.condition is None else (condition_shape,)
        self.bn1.build(inputs_shape, *condition)
        self.conv1.build((*upsampled, channels))
        self.bn2.build((*upsampled, self.filters), *condition)
        self.conv2.build((*upsampled, self.filters))
        self.shortcut.build((*upsampled, channels))

    def _normalize(self, bn, x, condition, training):
        if self.condition is None:
            return bn(x, training=training)
        return bn(x, condition, training=training)

    def call(self, inputs, condition=None, training=None):
        h = ops.relu(self._normalize(self.bn1, inputs, condition, training))
        h = self.conv1(self.upsample(h), training=training)
        h = ops.relu(self._normalize(self.bn2, h, condition, training))
        h = self.conv2(h, training=training)
        return h + self.shortcut(self.upsample(inputs), training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "condition": self.condition,
            "num_classes": self.num_classes,
            "spectral_norm": self.spectral_norm,
            "synchronized_bn": self.synchronized_bn,
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }


@keras.saving.register_keras_serializable(package="tfgans")
class ResidualDiscriminatorBlock(keras.layers.Layer):
    """A residual discriminator block, halving the spatial size unless told not to.

        h = avgpool(conv3x3(relu(conv3x3(relu(x)))))
        y = h + avgpool(conv1x1(x))

    The first block of a discriminator (`preactivation=False`) reads the image: it
    drops the first ReLU and pools before its shortcut convolution,
    `y = avgpool(conv3x3(relu(conv3x3(x)))) + conv1x1(avgpool(x))`. The shortcut is the
    identity when the block neither downsamples nor changes the channels. Every
    convolution goes through `normalize_layer(conv, norm)`.

    Args:
        filters: output channels.
        downsample: halve the spatial size with 2x2 average pooling.
        preactivation: start with a ReLU (every block but the first).
        norm: one of `tfgans.layers.NORMALIZATIONS`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float [batch, H, W, C].
        training: whether spectral normalization updates its power iteration.

    Returns:
        float [batch, H / 2, W / 2, filters] (or [batch, H, W, filters]).
    """

    def __init__(self, filters, downsample=True, preactivation=True, norm="spectral", **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.downsample = downsample
        self.preactivation = preactivation
        self.norm = check_normalization(norm)
        self.conv1 = self._conv(3, "conv1")
        self.conv2 = self._conv(3, "conv2")
        self.pool = keras.layers.AveragePooling2D(2, dtype=self.dtype_policy)

    def _conv(self, size, name):
        layer = keras.layers.Conv2D(
            self.filters, size, padding="same", dtype=self.dtype_policy, name=name
        )
        return normalize_layer(layer, self.norm)

    def build(self, input_shape):
        learned = self.downsample or input_shape[-1] != self.filters
        self.shortcut = self._conv(1, "shortcut") if learned else None
        self.conv1.build(input_shape)
        self.conv2.build((*input_shape[:-1], self.filters))
        if self.shortcut is not None:
            shape = input_shape
            if self.downsample and not self.preactivation:
                shape = (shape[0], shape[1] // 2, shape[2] // 2, shape[3])
            self.shortcut.build(shape)

    def call(self, inputs, training=None):
        h = ops.relu(inputs) if self.preactivation else inputs
        h = self.conv2(ops.relu(self.conv1(h, training=training)), training=training)
        if self.downsample:
            h = self.pool(h)
        # The first block pools before its shortcut convolution, the others after it.
        shortcut = self.pool(inputs) if self.downsample and not self.preactivation else inputs
        if self.shortcut is not None:
            shortcut = self.shortcut(shortcut, training=training)
        if self.downsample and self.preactivation:
            shortcut = self.pool(shortcut)
        return h + shortcut

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "downsample": self.downsample,
            "preactivation": self.preactivation,
            "norm": self.norm,
        }


@keras.saving.register_keras_serializable(package="tfgans")
class ResNetGenerator(keras.Model):
    """SNGAN's ResNet generator: noise (and a label) to an image in [-1, 1].

    A dense layer maps the noise to a `start x start` feature map (7 for 28x28 images,
    4 for 32x32 and 64x64), residual blocks double its size up to the image size
    (`ResidualGeneratorBlock`) while halving the channels from `width * 2**n` to `width`
    (n blocks), then batch normalization, ReLU, a 3x3 convolution to the image channels
    and tanh (computed in float32).

    When `num_classes` is set, the generator is called on `[noise, labels]` and every
    block's batch normalizations are class-conditional (`ConditionalBatchNormalization`
    with embeddings, as in SNGAN's projection-discriminator experiments). With
    `attention_resolution`, a `SelfAttention` block follows the residual block that
    outputs that size (SAGAN).

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: size of the noise vector.
        width: channels of the last block.
        num_classes: number of classes for a conditional generator, or None.
        spectral_norm: spectrally normalize every convolution and dense layer (SAGAN,
            BigGAN); SNGAN's generator does not.
        attention_resolution: feature-map size of the self-attention block (one of
            `attention_resolutions(image_shape)`), or None for none.
        synchronized_bn: synchronize batch statistics across replicas.
        orthogonal_regularization: weight `beta` of BigGAN's orthogonal regularization
            (`tfgans.layers.OffDiagonalOrthogonalRegularizer`) on every kernel; 0 for
            none. The penalties are in `generator.losses`, for the trainer to add.
        **kwargs: base model arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: noise float [batch, latent_dim], or `[noise, labels]` with int labels
            [batch] when conditional.
        training: batch normalization mode and spectral normalization updates.

    Returns:
        Images float32 [batch, *image_shape] in [-1, 1].

    Example:
    >>> g = ResNetGenerator((28, 28, 1), latent_dim=16, width=8, num_classes=10)
    >>> tuple(g([keras.random.normal((2, 16)), keras.ops.array([3, 9])]).shape)
    (2, 28, 28, 1)

    Reference:
        [SNGAN](https://arxiv.org/abs/1802.05957), [SAGAN](
        https://arxiv.org/abs/1805.08318).
    """

    def __init__(
        self,
        image_shape,
        latent_dim=128,
        width=64,
        num_classes=None,
        spectral_norm=False,
        attention_resolution=None,
        synchronized_bn=False,
        orthogonal_regularization=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.latent_dim = common.check_positive_int("latent_dim", latent_dim)
        self.width = common.check_positive_int("width", width)
        self.num_classes = common.check_positive_int("num_classes", num_classes, True)
        self.spectral_norm = common.check_bool("spectral_norm", spectral_norm)
        self.attention_resolution = check_attention_resolution(
            self.image_shape, attention_resolution
        )
        self.synchronized_bn = common.check_bool("synchronized_bn", synchronized_bn)
        self.orthogonal_regularization = common.check_non_negative(
            "orthogonal_regularization", orthogonal_regularization
        )

        dtype = self.dtype_policy
        n = common.num_resamplings(self.image_shape)
        start = common.START_SIZES[self.image_shape[0]]
        filters = [self.width * 2**i for i in reversed(range(n + 1))]
        regularizer = None
        if self.orthogonal_regularization > 0:
            regularizer = OffDiagonalOrthogonalRegularizer(self.orthogonal_regularization)

        def sn(layer):
            return maybe_spectral_norm(layer, self.spectral_norm)

        self.project = sn(
            keras.layers.Dense(
                start * start * filters[0], kernel_regularizer=regularizer, dtype=dtype,
                name="project",
            )
        )
        self.reshape = keras.layers.Reshape((start, start, filters[0]), dtype=dtype)
        condition = self._block_condition()
        self.blocks = [
            ResidualGeneratorBlock(
                f, condition, self.num_classes if condition == "labels" else None,
                spectral_norm=self.spectral_norm, synchronized_bn=self.synchronized_bn,
                kernel_regularizer=regularizer, dtype=dtype, name=f"block{i}",
            )
            for i, f in enumerate(filters[1:])
        ]
        self.attention = None
        self._attention_after = None
        if self.attention_resolution is not None:
            sizes = [start * 2 ** (i + 1) for i in range(n)]
            self._attention_after = sizes.index(self.attention_resolution)
            self.attention = SelfAttention(
                spectral_norm=self.spectral_norm, kernel_regularizer=regularizer, dtype=dtype,
                name="attention",
            )
        self.output_bn = _batch_norm(dtype, self.synchronized_bn, "output_bn")
        self.to_image = sn(
            keras.layers.Conv2D(
                self.image_shape[-1], 3, padding="same", kernel_regularizer=regularizer,
                dtype=dtype, name="to_image",
            )
        )
        self.tanh = keras.layers.Activation("tanh", dtype="float32", name="tanh")

    @property
    def output_shape_(self):
        """The shape of one generated image, without the batch dimension."""
        return self.image_shape

    def _block_condition(self):
        """What the blocks' batch normalizations are conditioned on (`BN_CONDITIONS`)."""
        return "labels" if self.num_classes is not None else None

    def _latents(self, noise, labels):
        """Returns the dense layer's input and each block's condition."""
        return noise, [labels] * len(self.blocks)

    def call(self, inputs, training=None):
        noise, labels = common.split_inputs(self, inputs, "noise", self.num_classes is not None)
        common.check_shape(self, noise, "noise", (self.latent_dim,))
        x, conditions = self._latents(noise, labels)
        x = self.reshape(self.project(x, training=training))
        for i, (block, condition) in enumerate(zip(self.blocks, conditions)):
            x = block(x, condition, training=training)
            if i == self._attention_after:
                x = self.attention(x, training=training)
        x = ops.relu(self.output_bn(x, training=training))
        return self.tanh(self.to_image(x, training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "latent_dim": self.latent_dim,
            "width": self.width,
            "num_classes": self.num_classes,
            "spectral_norm": self.spectral_norm,
            "attention_resolution": self.attention_resolution,
            "synchronized_bn": self.synchronized_bn,
            "orthogonal_regularization": self.orthogonal_regularization,
        }


@keras.saving.register_keras_serializable(package="tfgans")
class ResNetDiscriminator(keras.Model):
    """SNGAN's ResNet discriminator: an image (and a label) to a real/fake logit.

    Residual blocks (`ResidualDiscriminatorBlock`) halve the spatial size down to the
    generator's start size while doubling the channels from `width`, a last block keeps
    the size and doubles the channels once more (to `width * 2**n`), then ReLU, a sum
    over positions, and `DiscriminatorHead` (a dense logit in float32; higher means
    "real"). No batch normalization, so any gradient penalty applies.

    `norm` normalizes every convolution (`tfgans.layers.normalize_layer`): "spectral"
    (SNGAN, the default: every layer, the head included), "weight", "layer",
    "orthonormal" (a kernel regularizer: `losses` holds it) or "none";
    the head is spectrally normalized only with "spectral". With
    `attention_resolution`, a `SelfAttention` block follows the residual block that
    outputs that size (SAGAN, BigGAN), its convolutions spectrally normalized with
    "spectral".

    Conditioning, when `num_classes` is set: "projection" (the default; called on
    `[images, labels]`) or "acgan" (called on images; returns `[logits, class_logits]`).

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        width: channels of the first block.
        num_classes: number of classes for a conditional discriminator, or None.
        conditioning: None, "projection" or "acgan"; None means "projection" when
            `num_classes` is set.
        norm: one of `tfgans.layers.NORMALIZATIONS`.
        attention_resolution: feature-map size of the self-attention block (one of
            `attention_resolutions(image_shape)`), or None for none.
        **kwargs: base model arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: images float [batch, *image_shape], or `[images, labels]` for
            "projection" conditioning.
        training: whether spectral normalization updates its power iteration.

    Returns:
        Logits float32 [batch, 1], or `[logits, class_logits]` for "acgan".

    Example:
    >>> d = ResNetDiscriminator((32, 32, 3), width=8, num_classes=10)
    >>> tuple(d([keras.random.normal((2, 32, 32, 3)), keras.ops.array([1, 7])]).shape)
    (2, 1)

    Reference:
        [SNGAN](https://arxiv.org/abs/1802.05957),
        [Projection discriminator](https://arxiv.org/abs/1802.05637).
    """

    def __init__(
        self,
        image_shape,
        width=64,
        num_classes=None,
        conditioning=None,
        norm="spectral",
        attention_resolution=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.width = common.check_positive_int("width", width)
        self.num_classes = common.check_positive_int("num_classes", num_classes, True)
        self.conditioning = common.check_conditioning(
            self.num_classes, conditioning, default="projection"
        )
        if self.conditioning == "concat":
            raise ValueError(
                "ResNetDiscriminator takes conditioning None, 'projection' or 'acgan'. "
                f"Received: conditioning={conditioning!r}"
            )
        self.norm = check_normalization(norm)
        self.attention_resolution = check_attention_resolution(
            self.image_shape, attention_resolution
        )

        dtype = self.dtype_policy
        n = common.num_resamplings(self.image_shape)
        self.blocks = [
            ResidualDiscriminatorBlock(
                self.width * 2**i, downsample=i < n, preactivation=i > 0, norm=self.norm,
                dtype=dtype, name=f"block{i}",
            )
            for i in range(n + 1)
        ]
        self.attention = None
        self._attention_after = None
        if self.attention_resolution is not None:
            sizes = [self.image_shape[0] // 2 ** (i + 1) for i in range(n)]
            self._attention_after = sizes.index(self.attention_resolution)
            self.attention = SelfAttention(
                spectral_norm=self.norm == "spectral", dtype=dtype, name="attention"
            )
        self.head = DiscriminatorHead(
            self.num_classes, self.conditioning, self.norm == "spectral", dtype="float32",
            name="head",
        )

    @property
    def with_labels(self):
        """Whether the discriminator is called on `[images, labels]`."""
        return self.conditioning == "projection"

    def call(self, inputs, training=None):
        images, labels = common.split_inputs(self, inputs, "images", self.with_labels)
        common.check_shape(self, images, "images", self.image_shape)
        x = images
        for i, block in enumerate(self.blocks):
            x = block(x, training=training)
            if i == self._attention_after:
                x = self.attention(x, training=training)
        features = ops.sum(ops.relu(x), axis=(1, 2))
        return self.head(features, labels, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "width": self.width,
            "num_classes": self.num_classes,
            "conditioning": self.conditioning,
            "norm": self.norm,
            "attention_resolution": self.attention_resolution,
        }


def build_sngan(
    image_shape,
    latent_dim,
    num_classes=None,
    *,
    width=64,
    conditioning=None,
    discriminator_norm="spectral",
    generator_spectral_norm=False,
    synchronized_bn=False,
):
    """Builds SNGAN's ResNet generator and discriminator for `image_shape`.

    Call it inside `strategy.scope()`. The paper trains them with the hinge loss, Adam
    (2e-4, beta_1=0, beta_2=0.9) and 5 discriminator steps per generator step; those are
    the trainer's settings.

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: size of the noise vector.
        num_classes: number of classes for a conditional pair (conditional batch
            normalization in G, projection in D), or None.
        width: base channels of both networks (see `ResNetGenerator`,
            `ResNetDiscriminator`).
        conditioning: the discriminator's conditioning ("projection" or "acgan").
        discriminator_norm: the discriminator's normalization
            (`tfgans.layers.NORMALIZATIONS`).
        generator_spectral_norm: spectrally normalize the generator too.
        synchronized_bn: cross-replica batch normalization in the generator.

    Returns:
        `(generator, discriminator)`.

    Example:
    >>> g, d = build_sngan((28, 28, 1), latent_dim=16, width=8)
    >>> tuple(d(g(keras.random.normal((2, 16)))).shape)
    (2, 1)

    Reference:
        [Spectral Normalization for GANs](https://arxiv.org/abs/1802.05957).
    """
    generator = ResNetGenerator(
        image_shape, latent_dim, width=width, num_classes=num_classes,
        spectral_norm=generator_spectral_norm, synchronized_bn=synchronized_bn,
    )
    discriminator = ResNetDiscriminator(
        image_shape, width=width, num_classes=num_classes, conditioning=conditioning,
        norm=discriminator_norm,
    )
    return generator, discriminator
