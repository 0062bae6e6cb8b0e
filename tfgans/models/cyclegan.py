"""CycleGAN's networks (Zhu et al. 2017): two ResNet translators and two PatchGANs.

The generator is Johnson et al.'s ResNet, as in the paper's appendix 7.2:
`c7s1-k, d2k, d4k, R4k x n, u2k, uk, c7s1-C`: a 7x7 convolution, stride-2 3x3
convolutions down, `n` residual blocks, stride-2 transposed convolutions up and a 7x7
convolution to the output channels with tanh; reflection padding and instance norm
throughout. The paper uses 2 stride-2 levels, k = 64 and 6 (128 px) or 9 (256 px) blocks;
28x28 runs take the same 2 levels (28 -> 14 -> 7) with a smaller width and fewer blocks.

The discriminators are pix2pix's `PatchGANDiscriminator` (the paper's 70x70 PatchGAN, C64-
C128-C256-C512), scoring single images of one domain.

Reference: [Zhu et al., 2017](https://arxiv.org/abs/1703.10593), appendix 7.2.
"""

import keras
from keras import ops

from tfgans.models.common import check_positive_int
from tfgans.models.pix2pix import PatchGANDiscriminator, instance_norm


def _init():
    # The paper's N(0, 0.02); a fresh initializer per layer, made after the caller set
    # its seeds.
    return keras.initializers.RandomNormal(0.0, 0.02)



def _conv(filters, kernel, strides=1, name=None, use_bias=False, padding="valid"):
    # No bias before an instance norm: its shift replaces it.
    return keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding,
                               use_bias=use_bias, kernel_initializer=_init(), name=name)


def _reflect(x, pad):
    return ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="reflect")


@keras.saving.register_keras_serializable(package="tfgans")
class ResidualBlock(keras.layers.Layer):
    """`Rk`: two reflection-padded 3x3 convolutions with instance norm, ReLU between them,
    added to the input."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.conv1 = _conv(filters, 3, name="conv1")
        self.norm1 = instance_norm("norm1")
        self.conv2 = _conv(filters, 3, name="conv2")
        self.norm2 = instance_norm("norm2")

    def call(self, x):
        y = ops.relu(self.norm1(self.conv1(_reflect(x, 1))))
        return x + self.norm2(self.conv2(_reflect(y, 1)))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


@keras.saving.register_keras_serializable(package="tfgans")
class ResNetTranslator(keras.Model):
    """CycleGAN's generator: images [B, H, W, C] in [-1, 1] -> images in [-1, 1].

    Args:
        image_shape: (H, W, C) of the inputs; H and W must be multiples of
            `2 ** downsamplings`.
        out_channels: channels of the output (None: the input's).
        width: k, the filters of the first layer (the paper's 64).
        residual_blocks: n, the residual blocks at the lowest resolution (6 or 9).
        downsamplings: stride-2 levels down (and up), 2 in the paper.

    Example:
    >>> g = ResNetTranslator((28, 28, 1), width=8, residual_blocks=2)
    >>> g(keras.ops.zeros([2, 28, 28, 1])).shape
    TensorShape([2, 28, 28, 1])
    """

    def __init__(self, image_shape, out_channels=None, width=64, residual_blocks=6,
                 downsamplings=2, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        if len(self.image_shape) != 3:
            raise ValueError(
                f"`image_shape` must be (H, W, C). Received: image_shape={image_shape}")
        self.out_channels = int(out_channels or self.image_shape[-1])
        self.width = check_positive_int("width", width)
        self.residual_blocks = check_positive_int("residual_blocks", residual_blocks)
        self.downsamplings = int(downsamplings)
        if self.downsamplings < 0:
            raise ValueError(f"`downsamplings` must be >= 0. Received: {downsamplings}")
        multiple = 2 ** self.downsamplings
        lowest = min(self.image_shape[:2]) // multiple
        if self.image_shape[0] % multiple or self.image_shape[1] % multiple or lowest < 2:
            raise ValueError(
                f"CycleGAN's generator halves the image {self.downsamplings} times: height and "
                f"width must be multiples of {multiple} and at least {2 * multiple}. Received: "
                f"image_shape={self.image_shape}; set data.image_size or model.downsamplings.")
        self.stem = _conv(width, 7, name="c7s1")
        self.stem_norm = instance_norm("c7s1_norm")
        self.down = [_conv(width * 2 ** (i + 1), 3, 2, f"d{i}", padding="same")
                     for i in range(self.downsamplings)]
        self.down_norms = [instance_norm(f"d{i}_norm") for i in range(self.downsamplings)]
        self.blocks = [ResidualBlock(width * 2 ** self.downsamplings, name=f"r{i}")
                       for i in range(self.residual_blocks)]
        self.up = [keras.layers.Conv2DTranspose(
            width * 2 ** (self.downsamplings - 1 - i), 3, strides=2, padding="same",
            use_bias=False, kernel_initializer=_init(), name=f"u{i}")
            for i in range(self.downsamplings)]
        self.up_norms = [instance_norm(f"u{i}_norm") for i in range(self.downsamplings)]
        self.head = _conv(self.out_channels, 7, name="out", use_bias=True)

    def call(self, images, training=False):
        x = ops.relu(self.stem_norm(self.stem(_reflect(images, 3))))
        for conv, norm in zip(self.down, self.down_norms):
            x = ops.relu(norm(conv(x)))
        for block in self.blocks:
            x = block(x)
        for conv, norm in zip(self.up, self.up_norms):
            x = ops.relu(norm(conv(x)))
        return ops.tanh(self.head(_reflect(x, 3)))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "out_channels": self.out_channels, "width": self.width,
                "residual_blocks": self.residual_blocks, "downsamplings": self.downsamplings}


def build_cyclegan(image_shape, latent_dim=None, num_classes=None, width=64, residual_blocks=6,
                   downsamplings=2, discriminator_width=64, discriminator_layers=3):
    """CycleGAN's four networks for images of `image_shape` in both domains.

    Returns:
        {"generator_ab": G (A -> B), "generator_ba": F (B -> A), "discriminator_a": D_A
        (real A vs F(b)), "discriminator_b": D_B (real B vs G(a))}.
    """
    if num_classes is not None:
        raise ValueError("CycleGAN is not class-conditional: set data.labels: false.")

    def generator(name):
        return ResNetTranslator(image_shape, width=width, residual_blocks=residual_blocks,
                                downsamplings=downsamplings, name=name)

    def discriminator(name):
        return PatchGANDiscriminator(discriminator_width, discriminator_layers, name=name)

    return {"generator_ab": generator("generator_ab"), "generator_ba": generator("generator_ba"),
            "discriminator_a": discriminator("discriminator_a"),
            "discriminator_b": discriminator("discriminator_b")}
