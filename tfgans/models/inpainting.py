"""Inpainting networks: the context encoder (Pathak et al. 2016), optionally with partial
convolutions (Liu et al. 2018), and a global + local discriminator (Iizuka et al. 2017).

Masks follow the data pipeline's convention: float [B, H, W, 1], 1 = a missing pixel
(the hole), 0 = known. The generator reads the masked image and the mask concatenated on
channels, `[B, H, W, C + 1]` (`generator_input`), and returns a whole image in [-1, 1];
`compose` keeps the known pixels: `out = mask * G + (1 - mask) * image`.

References: [Pathak et al., 2016](https://arxiv.org/abs/1604.07379),
[Iizuka et al., 2017](http://iizuka.cs.tsukuba.ac.jp/projects/completion/data/completion_sig2017.pdf),
[Liu et al., 2018](https://arxiv.org/abs/1804.07723).
"""

import keras
import numpy as np
from keras import ops

from tfgans.layers.partial_conv import PartialConv2D
from tfgans.models.common import centring_pads, check_positive_int, crop_pads
from tfgans.models.pix2pix import MAX_MULTIPLIER, PatchGANDiscriminator, instance_norm


def center_mask(height, width):
    """The centred (H/2) x (W/2) hole (14x14 at 28x28): float32 NumPy [H, W, 1], 1 inside."""
    mask = np.zeros((height, width, 1), np.float32)
    top, left = height // 4, width // 4
    mask[top: top + height // 2, left: left + width // 2] = 1.0
    return mask


def generator_input(images, masks):
    """The generator's input: the image with its hole zeroed, and the mask, on channels."""
    masks = ops.cast(masks, images.dtype)
    return ops.concatenate([images * (1.0 - masks), masks], axis=-1)


def compose(images, masks, generated):
    """Keeps the known pixels: `masks * generated + (1 - masks) * images`."""
    masks = ops.cast(masks, generated.dtype)
    return masks * generated + (1.0 - masks) * ops.cast(images, generated.dtype)


@keras.saving.register_keras_serializable(package="tfgans")
class ContextEncoder(keras.Model):
    """An encoder-decoder inpainting generator (Pathak et al.'s context encoder).

    Encoder: `depth` stride-2 4x4 convolutions (LeakyReLU 0.2, instance norm but on the
    first), partial convolutions when `partial` (Liu et al.: the mask is updated level by
    level and each response renormalised to the valid pixels it saw). Decoder: stride-2
    4x4 transposed convolutions (ReLU, instance norm), with U-Net skip connections when
    `skips` (Liu et al.'s; Pathak's context encoder has none), then a tanh output. Sides
    that are not multiples of `2 ** depth` are zero-padded (the padding counts as hole)
    and the output cropped back. Pathak's channel-wise fully connected bottleneck is not
    used: at 28x28 the bottleneck is 4x4 (depth 3) and convolutions cover it.

    Args:
        image_shape: (H, W, C) of the images (the input has C + 1 channels: + the mask).
        width: filters of the first level (x2 per level, at most x8).
        depth: stride-2 levels.
        partial: partial convolutions in the encoder.
        skips: U-Net skip connections.

    Example:
    >>> g = ContextEncoder((28, 28, 1), width=4, depth=3)
    >>> g(keras.ops.zeros([2, 28, 28, 2])).shape
    TensorShape([2, 28, 28, 1])
    """

    def __init__(self, image_shape, width=64, depth=3, partial=False, skips=False, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        if len(self.image_shape) != 3:
            raise ValueError(f"`image_shape` must be (H, W, C). Received: image_shape={image_shape}")
        self.width = check_positive_int("width", width)
        self.depth = check_positive_int("depth", depth)
        self.partial = bool(partial)
        self.skips = bool(skips)
        multiple = 2 ** self.depth
        self.padded = tuple(-(-n // multiple) * multiple for n in self.image_shape[:2])
        init = keras.initializers.RandomNormal(0.0, 0.02)
        # No bias before a norm (every level but the first): see pix2pix's `_conv`.
        if self.partial:
            self.encoder = [PartialConv2D(self._filters(i), 4, strides=2, use_bias=i == 0,
                                          kernel_initializer=init, name=f"down{i}")
                            for i in range(self.depth)]
        else:
            self.encoder = [keras.layers.Conv2D(self._filters(i), 4, strides=2, padding="same",
                                                use_bias=i == 0, kernel_initializer=init,
                                                name=f"down{i}")
                            for i in range(self.depth)]
        self.encoder_norms = [instance_norm(f"down{i}_norm") for i in range(1, self.depth)]
        self.decoder = [keras.layers.Conv2DTranspose(
            self._filters(self.depth - 2 - j), 4, strides=2, padding="same", use_bias=False,
            kernel_initializer=init, name=f"up{j}") for j in range(self.depth - 1)]
        self.decoder_norms = [instance_norm(f"up{j}_norm") for j in range(self.depth - 1)]
        self.output_conv = keras.layers.Conv2DTranspose(
            self.image_shape[-1], 4, strides=2, padding="same", kernel_initializer=init,
            name="out")

    def _filters(self, level):
        return self.width * min(2**level, MAX_MULTIPLIER)

    def call(self, inputs, training=False):
        """`inputs`: `generator_input(images, masks)`, [B, H, W, C + 1]; returns [B, H, W, C]
        in [-1, 1] (every pixel: `compose` keeps the known ones)."""
        channels = self.image_shape[-1]
        x, hole = inputs[..., :channels], inputs[..., channels:]
        pads = centring_pads(self.image_shape, self.padded)
        if pads:
            x = ops.pad(x, pads)
            hole = ops.pad(hole, pads, constant_values=1.0)
        valid = 1.0 - hole
        if not self.partial:
            x = ops.concatenate([x, hole], axis=-1)
        skips = []
        for i, conv in enumerate(self.encoder):
            if self.partial:
                x, valid = conv([x, valid])
            else:
                x = conv(x)
            if i > 0:
                x = self.encoder_norms[i - 1](x)
            x = ops.leaky_relu(x, 0.2)
            skips.append(x)
        for j, (conv, norm) in enumerate(zip(self.decoder, self.decoder_norms)):
            x = ops.relu(norm(conv(x)))
            if self.skips:
                x = ops.concatenate([x, skips[self.depth - 2 - j]], axis=-1)
        return crop_pads(ops.tanh(self.output_conv(x)), pads)

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "width": self.width,
                "depth": self.depth, "partial": self.partial, "skips": self.skips}


@keras.saving.register_keras_serializable(package="tfgans")
class GlobalLocalDiscriminator(keras.Model):
    """Iizuka et al.'s two discriminators as one network: a global one on the whole image
    and a local one on the crop around the hole (the trainer cuts it), each a
    `PatchGANDiscriminator` (no norm on the first layer, instance norm after). Their logits
    are flattened and concatenated, [B, n_global + n_local]: the adversarial loss averages
    over both (Iizuka et al. join the two feature vectors with one fully connected layer).

    Args:
        width: filters of the first layer of each.
        num_layers: stride-2 layers of the global one (the local one, on a half-size crop,
            has one fewer, at least 1).

    Example:
    >>> d = GlobalLocalDiscriminator(width=4, num_layers=2)
    >>> d([keras.ops.zeros([2, 28, 28, 1]), keras.ops.zeros([2, 14, 14, 1])]).shape
    TensorShape([2, 98])
    """

    #: The trainer passes `[images, crops around the hole]`.
    takes_crops = True

    def __init__(self, width=64, num_layers=3, **kwargs):
        super().__init__(**kwargs)
        self.width = check_positive_int("width", width)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.global_discriminator = PatchGANDiscriminator(width, num_layers, name="global")
        self.local_discriminator = PatchGANDiscriminator(width, max(1, num_layers - 1),
                                                         name="local")

    def call(self, inputs, training=False):
        images, crops = inputs
        logits = [self.global_discriminator(images), self.local_discriminator(crops)]
        return ops.concatenate([ops.reshape(x, (ops.shape(x)[0], -1)) for x in logits], axis=-1)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "num_layers": self.num_layers}


DISCRIMINATORS = ("global", "global_local")


def build_inpainting(image_shape, latent_dim=None, num_classes=None, width=64, depth=3,
                     partial=False, skips=False, discriminator="global",
                     discriminator_width=None, discriminator_layers=2):
    """The inpainting networks for `image_shape` images.

    Args:
        discriminator: "global" (Pathak et al.: one PatchGAN on the completed image) or
            "global_local" (Iizuka et al.: + a local one on the crop around the hole).

    Returns:
        (ContextEncoder, PatchGANDiscriminator or GlobalLocalDiscriminator).
    """
    if num_classes is not None:
        raise ValueError("Inpainting is not class-conditional: set data.labels: false.")
    if discriminator not in DISCRIMINATORS:
        raise ValueError(f"`discriminator` must be one of {', '.join(DISCRIMINATORS)}. "
                         f"Received: discriminator={discriminator!r}")
    generator = ContextEncoder(image_shape, width=width, depth=depth, partial=partial,
                               skips=skips, name="generator")
    d_width = discriminator_width or width
    if discriminator == "global":
        return generator, PatchGANDiscriminator(d_width, discriminator_layers, name="discriminator")
    return generator, GlobalLocalDiscriminator(d_width, discriminator_layers, name="discriminator")
