"""pix2pix's networks (Isola et al. 2017): a U-Net generator and a PatchGAN discriminator.

Both use instance normalisation (`keras.layers.GroupNormalization(groups=-1)`): the
paper's batch norm at batch size 1 with test-time batch statistics is exactly that, and it
keeps replicas from sharing (or needing to share) statistics.

The generator's dropout is *keyed*: in training, the trainer passes `dropout_noise`, one
tensor of uniform draws per dropout layer, drawn statelessly from (seed, step) for the
global batch (`tfgans.training.noise`), so the masks are the same on 1, 2 or N replicas
and a resumed run draws the same masks. Called with `training=True` and no noise (a plain
Keras use), it draws from the model's `keras.random.SeedGenerator`, whose state the
trainer checkpoints.

Reference: [Isola et al., 2017](https://arxiv.org/abs/1611.07004), appendix 6.1.2.
"""

import keras
from keras import ops

from tfgans.models.common import centring_pads, check_positive_int, crop_pads

#: Channels multiply by 2 per level up to this factor times `width` (C64-C128-C256-C512...).
MAX_MULTIPLIER = 8


def instance_norm(name=None):
    """Instance normalisation: a group per channel (`GroupNormalization(groups=-1)`)."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def _conv(filters, strides, name, use_bias=True):
    # No bias before a norm: the norm's shift replaces it, and a bias whose true gradient
    # is 0 gets Adam steps of size lr from rounding noise (which differs across replicas).
    return keras.layers.Conv2D(
        filters, 4, strides=strides, padding="same", name=name, use_bias=use_bias,
        kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02),
    )


@keras.saving.register_keras_serializable(package="tfgans")
class UNetGenerator(keras.Model):
    """pix2pix's U-Net: an encoder of stride-2 4x4 convolutions (LeakyReLU 0.2, instance
    norm but on the first and innermost layers), a decoder of stride-2 transposed
    convolutions (ReLU, instance norm, dropout 0.5 on the innermost `dropout_layers`),
    each decoder layer's output concatenated with the mirrored encoder layer's (the skip
    connections), and a tanh output.

    Inputs whose sides are not multiples of `2 ** depth` are padded (reflection) to the
    next multiple and the output cropped back: 28x28 runs at 32x32 with depth 4.

    Args:
        image_shape: (H, W, C) of the source images.
        out_channels: channels of the output image (None: the source's).
        width: filters of the first layer (the paper's 64).
        depth: number of stride-2 levels (the paper's 8 for 256x256; 4 for 28x28).
        dropout: the decoder's dropout rate (0.5 in the paper; 0 for none).
        dropout_layers: how many decoder layers, from the innermost, use dropout (3).

    Example:
    >>> g = UNetGenerator((28, 28, 1), width=8, depth=3)
    >>> g(keras.ops.zeros([2, 28, 28, 1])).shape
    TensorShape([2, 28, 28, 1])
    """

    def __init__(self, image_shape, out_channels=None, width=64, depth=4, dropout=0.5,
                 dropout_layers=3, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        if len(self.image_shape) != 3:
            raise ValueError(
                f"`image_shape` must be (H, W, C). Received: image_shape={image_shape}")
        self.out_channels = int(out_channels or self.image_shape[-1])
        self.width = check_positive_int("width", width)
        self.depth = check_positive_int("depth", depth)
        if self.depth < 2:
            raise ValueError(f"`depth` must be at least 2. Received: depth={depth}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
        self.dropout = float(dropout)
        self.dropout_layers = int(dropout_layers)
        multiple = 2 ** self.depth
        height, width_px = self.image_shape[:2]
        self.padded = (-(-height // multiple) * multiple, -(-width_px // multiple) * multiple)
        self.encoder = [
            _conv(self._filters(i), 2, f"down{i}", use_bias=not 0 < i < self.depth - 1)
            for i in range(self.depth)]
        # Instance norm on every encoder level but the first and the innermost: a list
        # (level i's at i - 1), as SavedModels cannot track dicts with integer keys.
        self.encoder_norms = [instance_norm(f"down{i}_norm") for i in range(1, self.depth - 1)]
        # Decoder level j (0 = innermost) mirrors encoder level depth - 2 - j.
        self.decoder = [
            keras.layers.Conv2DTranspose(
                self._filters(self.depth - 2 - j), 4, strides=2, padding="same",
                name=f"up{j}", use_bias=False,
                kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02))
            for j in range(self.depth - 1)
        ]
        self.decoder_norms = [instance_norm(f"up{j}_norm") for j in range(self.depth - 1)]
        self.output_conv = keras.layers.Conv2DTranspose(
            self.out_channels, 4, strides=2, padding="same", name="out",
            kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02))
        self.seed_generator = keras.random.SeedGenerator(0, name="dropout_seed")

    def _filters(self, level):
        return self.width * min(2**level, MAX_MULTIPLIER)

    @property
    def num_dropout(self):
        """Decoder layers with dropout."""
        return min(self.dropout_layers, self.depth - 1) if self.dropout > 0 else 0

    def dropout_noise_shapes(self, batch_size):
        """The shapes of `dropout_noise` for a batch: one [B, h, w, c] per dropout layer."""
        shapes = []
        for j in range(self.num_dropout):
            level = self.depth - 2 - j
            scale = 2 ** (level + 1)
            shapes.append((batch_size, self.padded[0] // scale, self.padded[1] // scale,
                           self._filters(level)))
        return shapes

    def call(self, source, training=False, dropout_noise=None):
        """Translates `source` [B, H, W, C] in [-1, 1] to images in [-1, 1].

        Args:
            training: dropout on (and instance norm as always).
            dropout_noise: None, or uniform draws in [0, 1) of `dropout_noise_shapes`:
                an element is dropped where its draw is below the rate.
        """
        x = source
        pads = centring_pads(self.image_shape, self.padded)
        if pads:
            x = ops.pad(x, pads, mode="reflect")
        skips = []
        for i, conv in enumerate(self.encoder):
            x = conv(x)
            if 0 < i < self.depth - 1:
                x = self.encoder_norms[i - 1](x)
            x = ops.leaky_relu(x, 0.2)
            skips.append(x)
        for j, (conv, norm) in enumerate(zip(self.decoder, self.decoder_norms)):
            x = norm(conv(x))
            if training and j < self.num_dropout:
                x = self._drop(x, None if dropout_noise is None else dropout_noise[j])
            x = ops.relu(x)
            x = ops.concatenate([x, skips[self.depth - 2 - j]], axis=-1)
        return crop_pads(ops.tanh(self.output_conv(x)), pads)

    def _drop(self, x, noise):
        if noise is None:
            noise = keras.random.uniform(ops.shape(x), seed=self.seed_generator)
        keep = ops.cast(ops.cast(noise, x.dtype) >= self.dropout, x.dtype)
        return x * keep / (1.0 - self.dropout)

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "out_channels": self.out_channels, "width": self.width, "depth": self.depth,
                "dropout": self.dropout, "dropout_layers": self.dropout_layers}


def patchgan_receptive_field(num_layers):
    """The receptive field (pixels a side) of one PatchGAN logit: `num_layers` stride-2 4x4
    convolutions, then two stride-1 4x4 convolutions. 3 layers: the paper's 70x70."""
    field = 1
    for stride in [1, 1] + [2] * num_layers:  # from the logit back to the input
        field = (field - 1) * stride + 4
    return field


@keras.saving.register_keras_serializable(package="tfgans")
class PatchGANDiscriminator(keras.Model):
    """pix2pix's PatchGAN: scores each patch of a (source, image) pair as real or fake.

    `num_layers` stride-2 4x4 convolutions (C64-C128-C256..., LeakyReLU 0.2, instance norm
    but on the first), one stride-1 convolution, and a stride-1 convolution to one logit
    per patch. Each logit sees `patchgan_receptive_field(num_layers)` pixels a side (the
    paper's 70x70 for 3 layers; 16 for 1, 34 for 2); the output is
    [B, ceil(H / 2**num_layers), ceil(W / 2**num_layers), 1].

    Instance norm makes every logit depend a little on the whole image (through the
    statistics); the convolutions see only the receptive field.

    Args:
        width: filters of the first layer (64 in the paper).
        num_layers: the stride-2 layers (the receptive field, see above).
        norm: "instance" (the paper's, at batch size 1) or "none".

    Example:
    >>> d = PatchGANDiscriminator(width=8, num_layers=2)
    >>> d(keras.ops.zeros([2, 28, 28, 2])).shape
    TensorShape([2, 7, 7, 1])
    """

    def __init__(self, width=64, num_layers=3, norm="instance", **kwargs):
        super().__init__(**kwargs)
        self.width = check_positive_int("width", width)
        self.num_layers = check_positive_int("num_layers", num_layers)
        if norm not in ("instance", "none"):
            raise ValueError(f"`norm` must be 'instance' or 'none'. Received: norm={norm!r}")
        self.norm = norm
        filters = [width * min(2**i, MAX_MULTIPLIER) for i in range(num_layers + 1)]
        normed = norm == "instance"
        self.convs = [_conv(filters[i], 2, f"conv{i}", use_bias=i == 0 or not normed)
                      for i in range(num_layers)]
        self.convs.append(_conv(filters[num_layers], 1, f"conv{num_layers}",
                                use_bias=not normed))
        # Level i's norm at i - 1 (all but the first level); a list, see UNetGenerator.
        self.norms = [instance_norm(f"conv{i}_norm") for i in range(1, num_layers + 1)
                      if norm == "instance"]
        self.logits = _conv(1, 1, "logits")

    @property
    def receptive_field(self):
        return patchgan_receptive_field(self.num_layers)

    def call(self, pair, training=False):
        x = pair
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i > 0 and self.norms:
                x = self.norms[i - 1](x)
            x = ops.leaky_relu(x, 0.2)
        return self.logits(x)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "num_layers": self.num_layers,
                "norm": self.norm}


def build_pix2pix(image_shape, latent_dim=None, num_classes=None, width=64, depth=4,
                  dropout=0.5, discriminator_width=None, discriminator_layers=3):
    """pix2pix's networks for `image_shape` sources and targets of the same shape.

    Returns:
        (UNetGenerator, PatchGANDiscriminator), the discriminator built on pairs
        (source and image concatenated on channels).
    """
    if num_classes is not None:
        raise ValueError("pix2pix is not class-conditional: set data.labels: false.")
    generator = UNetGenerator(image_shape, width=width, depth=depth, dropout=dropout,
                              name="generator")
    discriminator = PatchGANDiscriminator(discriminator_width or width, discriminator_layers,
                                          name="discriminator")
    return generator, discriminator
