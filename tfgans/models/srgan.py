"""SRGAN's networks (Ledig et al. 2017): the SRResNet generator and a discriminator of
strided convolution blocks, scaled to 28x28.

SRResNet: a 9x9 convolution + PReLU, `residual_blocks` blocks (conv 3x3 - BN - PReLU - conv
3x3 - BN, plus the block's input), a conv 3x3 - BN whose output is added to the first
convolution's (the global skip), then one sub-pixel stage per factor 2 of `scale` (conv 3x3
to 4x the channels, `depth_to_space(2)`, PReLU) and a 9x9 convolution to the image, tanh.
All of it but the last stages runs at the low resolution.

Batch norm is Keras' `BatchNormalization(synchronized=True)` by default: the statistics of
the global batch, so results do not depend on the number of replicas.

Reference: [Ledig et al., 2017](https://arxiv.org/abs/1609.04802), figure 4.
"""

import math

import keras
from keras import ops

from tfgans.models.common import check_bool, check_positive_int


def subpixel_upsample(x, factor=2):
    """Sub-pixel convolution's rearrangement (Shi et al. 2016): [B, H, W, C * f^2] ->
    [B, H * f, W * f, C], as `tf.nn.depth_to_space(x, f)`:
    `out[b, h * f + i, w * f + j, c] = x[b, h, w, (i * f + j) * C + c]`."""
    return ops.depth_to_space(x, factor)


def _batch_norm(synchronized, name):
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5,
                                           synchronized=synchronized, name=name)


def _prelu(name):
    return keras.layers.PReLU(shared_axes=[1, 2], name=name)


@keras.saving.register_keras_serializable(package="tfgans")
class SRResNetGenerator(keras.Model):
    """SRResNet: low-resolution images [B, H / scale, W / scale, C] -> [B, H, W, C] in [-1, 1].

    Args:
        image_shape: (H, W, C) of the high-resolution OUTPUT; H and W multiples of `scale`.
        scale: the upsampling factor, a power of 2 (the paper's 4: two x2 sub-pixel stages).
        width: the filters of the body (the paper's 64).
        residual_blocks: B, the residual blocks (the paper's 16).
        synchronized_bn: batch norm over the global batch (replica-independent results).

    Example:
    >>> g = SRResNetGenerator((28, 28, 1), width=8, residual_blocks=2)
    >>> g.source_shape, tuple(g(keras.ops.zeros([2, 7, 7, 1])).shape)
    ((7, 7, 1), (2, 28, 28, 1))
    """

    def __init__(self, image_shape, scale=4, width=64, residual_blocks=16,
                 synchronized_bn=True, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.scale = check_positive_int("scale", scale)
        if self.scale < 2 or self.scale & (self.scale - 1):
            raise ValueError(f"`scale` must be a power of 2, at least 2. Received: scale={scale}")
        if len(self.image_shape) != 3 or self.image_shape[0] % self.scale or (
                self.image_shape[1] % self.scale):
            raise ValueError(
                f"`image_shape` must be (H, W, C) with H and W multiples of scale={self.scale}. "
                f"Received: image_shape={image_shape}")
        self.width = check_positive_int("width", width)
        self.residual_blocks = check_positive_int("residual_blocks", residual_blocks)
        self.synchronized_bn = check_bool("synchronized_bn", synchronized_bn)
        height, width_px, channels = self.image_shape
        self.source_shape = (height // self.scale, width_px // self.scale, channels)
        self.head = keras.layers.Conv2D(self.width, 9, padding="same", name="head")
        self.head_act = _prelu("head_prelu")
        self.blocks = []
        for i in range(self.residual_blocks):
            self.blocks.append([
                keras.layers.Conv2D(self.width, 3, padding="same", use_bias=False,
                                    name=f"block{i}_conv1"),
                _batch_norm(synchronized_bn, f"block{i}_bn1"),
                _prelu(f"block{i}_prelu"),
                keras.layers.Conv2D(self.width, 3, padding="same", use_bias=False,
                                    name=f"block{i}_conv2"),
                _batch_norm(synchronized_bn, f"block{i}_bn2"),
            ])
        self.body_conv = keras.layers.Conv2D(self.width, 3, padding="same", use_bias=False,
                                             name="body_conv")
        self.body_bn = _batch_norm(synchronized_bn, "body_bn")
        self.upsample = [
            (keras.layers.Conv2D(4 * self.width, 3, padding="same", name=f"up{i}_conv"),
             _prelu(f"up{i}_prelu"))
            for i in range(int(math.log2(self.scale)))
        ]
        self.tail = keras.layers.Conv2D(channels, 9, padding="same", name="tail")

    def call(self, source, training=False):
        skip = x = self.head_act(self.head(source))
        for conv1, bn1, act, conv2, bn2 in self.blocks:
            x = x + bn2(conv2(act(bn1(conv1(x), training=training))), training=training)
        x = skip + self.body_bn(self.body_conv(x), training=training)
        for conv, act in self.upsample:
            x = act(subpixel_upsample(conv(x), 2))
        return ops.tanh(self.tail(x))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "scale": self.scale,
                "width": self.width, "residual_blocks": self.residual_blocks,
                "synchronized_bn": self.synchronized_bn}


@keras.saving.register_keras_serializable(package="tfgans")
class SRGANDiscriminator(keras.Model):
    """SRGAN's discriminator: images [B, H, W, C] -> logits [B, 1].

    A 3x3 convolution + LeakyReLU 0.2, then `levels` pairs of 3x3 convolutions (stride 1,
    then stride 2) with batch norm and LeakyReLU, filters `width` doubling per level (the
    first pair's stride-1 convolution is the input one's), a dense layer of `dense_units`
    + LeakyReLU and a dense logit. The paper's 96x96 version has 4 levels (64 ... 512)
    and 1024 units; 28x28 takes 3 (28 -> 14 -> 7 -> 4).

    Args:
        width: filters of the first level (the paper's 64).
        levels: stride-2 levels.
        dense_units: the hidden dense layer (the paper's 1024).
        synchronized_bn: batch norm over the global batch.

    Example:
    >>> d = SRGANDiscriminator(width=4, levels=2, dense_units=8)
    >>> tuple(d(keras.ops.zeros([2, 28, 28, 1])).shape)
    (2, 1)
    """

    def __init__(self, width=64, levels=3, dense_units=1024, synchronized_bn=True, **kwargs):
        super().__init__(**kwargs)
        self.width = check_positive_int("width", width)
        self.levels = check_positive_int("levels", levels)
        self.dense_units = check_positive_int("dense_units", dense_units)
        self.synchronized_bn = check_bool("synchronized_bn", synchronized_bn)
        self.convs = [keras.layers.Conv2D(self.width, 3, padding="same", name="conv0")]
        self.norms = []
        for level in range(self.levels):
            filters = self.width * 2**level
            strides = [2] if level == 0 else [1, 2]  # level 0's stride 1 is conv0
            for stride in strides:
                index = len(self.convs)
                self.convs.append(keras.layers.Conv2D(
                    filters, 3, strides=stride, padding="same", use_bias=False,
                    name=f"conv{index}"))
                self.norms.append(_batch_norm(synchronized_bn, f"conv{index}_bn"))
        self.flatten = keras.layers.Flatten()
        self.hidden = keras.layers.Dense(self.dense_units, name="dense")
        self.logit = keras.layers.Dense(1, name="logit")

    def call(self, images, training=False):
        x = ops.leaky_relu(self.convs[0](images), 0.2)
        for conv, norm in zip(self.convs[1:], self.norms):
            x = ops.leaky_relu(norm(conv(x), training=training), 0.2)
        x = ops.leaky_relu(self.hidden(self.flatten(x)), 0.2)
        return self.logit(x)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "levels": self.levels,
                "dense_units": self.dense_units, "synchronized_bn": self.synchronized_bn}


def build_srgan(image_shape, latent_dim=None, num_classes=None, scale=4, width=64,
                residual_blocks=16, discriminator_width=64, discriminator_levels=3,
                dense_units=1024, synchronized_bn=True):
    """SRGAN's networks for `image_shape` high-resolution targets (sources `scale` times
    smaller per side).

    Returns:
        (SRResNetGenerator, SRGANDiscriminator).
    """
    if num_classes is not None:
        raise ValueError("srgan is not class-conditional: set data.labels: false.")
    generator = SRResNetGenerator(image_shape, scale=scale, width=width,
                                  residual_blocks=residual_blocks,
                                  synchronized_bn=synchronized_bn, name="generator")
    discriminator = SRGANDiscriminator(discriminator_width, discriminator_levels, dense_units,
                                       synchronized_bn=synchronized_bn, name="discriminator")
    return generator, discriminator
