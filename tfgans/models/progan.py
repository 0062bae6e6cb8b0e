"""Progressive GAN networks (Karras et al., 2018), built once at full resolution.

The generator and discriminator hold every resolution's blocks, to-RGB and from-RGB
layers from the start, so that their variables (and the optimizers' slots) never change
shape while the networks grow. Which resolutions are in use is a call argument: the
`phase` p (the current top resolution, `start_size * 2**p`) and the fade-in `alpha` of
its new layers. Every resolution is computed on each call and the outputs are blended
with weights that are 0 or 1 except at the two resolutions being faded (a static graph
that compiles with XLA, the phase being a tensor); the blocks above the phase get zero
gradients. Called without `phase`, the networks are fully grown (the last phase, alpha 1).

The generator always returns full-resolution images: the phase's images upsampled
(nearest neighbour) to the full size. The discriminator always takes full-resolution
images and reads them at the phase's resolution (average pooling, which exactly undoes the
nearest-neighbour upsampling).

Reference:
    [Progressive Growing of GANs](https://arxiv.org/abs/1710.10196) (Karras et al. 2018),
    section 2 (fade-in, figure 2) and appendix A (the networks, table 2).
"""

import math

import keras
from keras import ops

from tfgans.layers.progan import EqualizedConv2D, EqualizedDense, MinibatchStdDev, PixelNorm
from tfgans.models import common

#: Progressive GAN's linear layers (to-RGB, the logit) use He's constant with gain 1,
#: i.e. `1 / sqrt(2)` times this library's `gain=1` (sqrt(2 / fan_in)).
_LINEAR_GAIN = 1.0 / math.sqrt(2.0)


def start_size(image_size):
    """The first resolution: `image_size` halved while it is even and above 4 (28 -> 7,
    32 -> 4, 64 -> 4)."""
    size = int(image_size)
    while size % 2 == 0 and size > 4:
        size //= 2
    return size


def num_stages(image_size):
    """The number of resolutions from `start_size(image_size)` to `image_size`."""
    return int(round(math.log2(image_size / start_size(image_size)))) + 1


def downscale(images, factor):
    """Average pooling by `factor` (1: unchanged)."""
    if factor == 1:
        return images
    return ops.average_pool(images, pool_size=factor, strides=factor, padding="valid")


def upscale(images, factor):
    """Nearest-neighbour upsampling by `factor` (1: unchanged)."""
    if factor == 1:
        return images
    return ops.repeat(ops.repeat(images, factor, axis=1), factor, axis=2)


def blend_weights(phase, alpha, stages):
    """The weight of each resolution's output at (`phase`, `alpha`): [stages] float32,
    `alpha` at the phase, `1 - alpha` at the one below it, 0 elsewhere. At phase 0 the
    weight is 1 (alpha is taken as 1: nothing is fading in)."""
    phase = ops.cast(phase, "int32")
    alpha = ops.where(ops.equal(phase, 0), 1.0, ops.cast(alpha, "float32"))
    r = ops.arange(stages, dtype="int32")
    return (ops.cast(ops.equal(r, phase), "float32") * alpha
            + ops.cast(ops.equal(r, phase - 1), "float32") * (1.0 - alpha))


def fade_reals(images, phase, alpha, stages):
    """Real images as the discriminator sees them at (`phase`, `alpha`) (the paper's
    fading of the reals): `alpha` times the images at the phase's resolution plus
    `1 - alpha` times them at the resolution below, both upsampled back to full size.

    Args:
        images: [batch, H, W, C] at full resolution.
        phase, alpha: scalars (tensors or numbers).
        stages: `num_stages(H)`.
    """
    weights = blend_weights(phase, alpha, stages)
    out = 0.0
    for r in range(stages):
        factor = 2 ** (stages - 1 - r)
        low = upscale(downscale(images, factor), factor)
        out = out + ops.cast(weights[r], images.dtype) * low
    return out


def _channels(width, stages, r):
    """Channels at resolution r: `width` at full resolution, doubling per halving, at most
    `4 * width` (the paper: 512 up to 32 px, halving above)."""
    return width * min(2 ** (stages - 1 - r), 4)


def _conv(filters, kernel, name, dtype, gain=1.0, padding="same"):
    return EqualizedConv2D(filters, kernel, padding=padding, gain=gain, dtype=dtype, name=name)


def _level(phase, alpha, stages):
    if phase is None:
        return stages - 1, 1.0
    return phase, 1.0 if alpha is None else alpha


@keras.saving.register_keras_serializable(package="tfgans")
class ProGANGenerator(keras.Model):
    """The Progressive GAN generator, all resolutions built (see the module docstring).

    Noise is pixel-normalised, mapped by an equalised dense layer to `start_size` x
    `start_size` features, then each resolution doubles the size (nearest neighbour) and
    applies two 3x3 equalised convolutions, each followed by a leaky ReLU (0.2) and pixel
    norm. A 1x1 to-RGB layer per resolution gives its images (linear, as in the paper).

    Args:
        image_shape: (H, W, C) of the full-resolution images (28, 32 or 64 a side).
        latent_dim: size of the noise.
        width: channels at full resolution (doubling per halving, at most 4 * width).

    Call arguments:
        inputs: noise [batch, latent_dim].
        phase: the current top resolution index (int scalar); None: the last.
        alpha: the fade-in weight of that resolution in [0, 1]; None: 1.

    Returns:
        Images [batch, H, W, C], the phase's images upsampled to full size.
    """

    def __init__(self, image_shape, latent_dim, width=32, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.latent_dim = common.check_positive_int("latent_dim", latent_dim)
        self.width = common.check_positive_int("width", width)
        size = self.image_shape[0]
        self.start_size = start_size(size)
        self.stages = num_stages(size)
        dtype = self.dtype_policy
        ch0 = _channels(self.width, self.stages, 0)
        self.norm = PixelNorm(dtype=dtype, name="pixel_norm")
        self.dense = EqualizedDense(self.start_size * self.start_size * ch0, dtype=dtype,
                                    name="dense")
        self.convs = []
        self.to_rgb = []
        for r in range(self.stages):
            ch = _channels(self.width, self.stages, r)
            self.convs.append([_conv(ch, 3, f"conv{r}_{i}", dtype) for i in
                               ((1,) if r == 0 else (0, 1))])
            self.to_rgb.append(_conv(self.image_shape[-1], 1, f"to_rgb{r}", dtype,
                                     gain=_LINEAR_GAIN))

    def _act(self, x):
        return self.norm(ops.leaky_relu(x, 0.2))

    def call(self, inputs, training=None, phase=None, alpha=None):
        phase, alpha = _level(phase, alpha, self.stages)
        weights = blend_weights(phase, alpha, self.stages)
        ch0 = _channels(self.width, self.stages, 0)
        x = self._act(self.dense(self.norm(inputs)))
        x = ops.reshape(x, (-1, self.start_size, self.start_size, ch0))
        out = 0.0
        for r in range(self.stages):
            if r > 0:
                x = upscale(x, 2)
            for conv in self.convs[r]:
                x = self._act(conv(x))
            rgb = upscale(self.to_rgb[r](x), 2 ** (self.stages - 1 - r))
            out = out + ops.cast(weights[r], rgb.dtype) * rgb
        return out

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "latent_dim": self.latent_dim, "width": self.width}


@keras.saving.register_keras_serializable(package="tfgans")
class ProGANDiscriminator(keras.Model):
    """The Progressive GAN discriminator (critic), all resolutions built.

    Per resolution r, a 1x1 from-RGB layer (leaky ReLU) reads the images average-pooled to
    that resolution; each block above the first applies two 3x3 equalised convolutions
    (leaky ReLU 0.2) and halves the size (average pooling). At the phase p the features
    enter through from-RGB p; while p fades in, the features after block p are blended
    with from-RGB p-1 of the images pooled once more (alpha and 1 - alpha). The last
    block appends the minibatch standard deviation, then a 3x3 convolution, a dense layer
    and the linear logit. No normalisation (WGAN-GP), as in the paper.

    Args:
        image_shape: (H, W, C) of the full-resolution images (28, 32 or 64 a side).
        width: channels at full resolution (doubling per halving, at most 4 * width).
        group_size: the minibatch standard deviation's group size (4 in the paper).

    Call arguments:
        inputs: images [batch, H, W, C] at full resolution.
        phase, alpha: as for `ProGANGenerator`.

    Returns:
        Logits [batch, 1].
    """

    def __init__(self, image_shape, width=32, group_size=4, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.width = common.check_positive_int("width", width)
        self.group_size = common.check_positive_int("group_size", group_size)
        size = self.image_shape[0]
        self.start_size = start_size(size)
        self.stages = num_stages(size)
        dtype = self.dtype_policy
        self.from_rgb = []
        self.convs = []
        for r in range(self.stages):
            ch = _channels(self.width, self.stages, r)
            self.from_rgb.append(_conv(ch, 1, f"from_rgb{r}", dtype))
            if r > 0:
                below = _channels(self.width, self.stages, r - 1)
                self.convs.append([_conv(ch, 3, f"conv{r}_0", dtype),
                                   _conv(below, 3, f"conv{r}_1", dtype)])
            else:
                self.convs.append([_conv(ch, 3, "conv0_0", dtype)])
        ch0 = _channels(self.width, self.stages, 0)
        self.stddev = MinibatchStdDev(group_size=self.group_size, dtype=dtype, name="stddev")
        self.dense = EqualizedDense(ch0, dtype=dtype, name="dense")
        self.logit = EqualizedDense(1, gain=_LINEAR_GAIN, dtype=dtype, name="logit")

    def call(self, inputs, training=None, phase=None, alpha=None):
        phase, alpha = _level(phase, alpha, self.stages)
        phase = ops.cast(phase, "int32")
        alpha = ops.where(ops.equal(phase, 0), 1.0, ops.cast(alpha, "float32"))
        x = None
        for r in reversed(range(self.stages)):
            images = downscale(inputs, 2 ** (self.stages - 1 - r))
            entry = ops.leaky_relu(self.from_rgb[r](images), 0.2)
            # Entering here: 1 at the phase, 1 - alpha just below it (fading), else 0.
            enter = (ops.cast(ops.equal(phase, r), "float32")
                     + ops.cast(ops.equal(phase, r + 1), "float32") * (1.0 - alpha))
            # Coming from the block above: alpha just below the phase, 1 further down.
            through = (ops.cast(ops.equal(phase, r + 1), "float32") * alpha
                       + ops.cast(phase > r + 1, "float32"))
            entry = ops.cast(enter, entry.dtype) * entry
            x = entry if x is None else ops.cast(through, x.dtype) * x + entry
            if r > 0:
                for conv in self.convs[r]:
                    x = ops.leaky_relu(conv(x), 0.2)
                x = downscale(x, 2)
        x = self.stddev(x)
        x = ops.leaky_relu(self.convs[0][0](x), 0.2)
        x = ops.reshape(x, (-1, math.prod(x.shape[1:])))
        x = ops.leaky_relu(self.dense(x), 0.2)
        return self.logit(x)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "width": self.width, "group_size": self.group_size}


def build_progan(image_shape, latent_dim, num_classes=None, width=32, group_size=4):
    """Builds a Progressive GAN (generator, discriminator) for `image_shape`.

    Args:
        image_shape: (H, W, C), 28, 32 or 64 pixels a side (from 7x7, 4x4, 4x4).
        latent_dim: size of the noise.
        num_classes: must be None: Progressive GAN is unconditional.
        width: channels at full resolution.
        group_size: the minibatch standard deviation's group size.

    Example:
    >>> g, d = build_progan((28, 28, 1), latent_dim=16, width=4)
    >>> tuple(g(keras.random.normal((2, 16)), phase=0).shape)
    (2, 28, 28, 1)
    """
    if num_classes is not None:
        raise ValueError(
            "model 'progan' is unconditional (Karras et al. 2018): set data.labels to false "
            f"(or num_classes=None). Received: num_classes={num_classes}"
        )
    return (ProGANGenerator(image_shape, latent_dim, width=width, name="generator"),
            ProGANDiscriminator(image_shape, width=width, group_size=group_size,
                                name="discriminator"))
