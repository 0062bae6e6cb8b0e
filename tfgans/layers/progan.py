"""Progressive GAN building blocks (Karras et al., 2018): minibatch standard deviation,
pixelwise feature normalization and equalized learning rate layers."""

import math

import keras
from keras import ops

from tfgans.layers._checks import check_positive


@keras.saving.register_keras_serializable(package="tfgans")
class MinibatchStdDev(keras.layers.Layer):
    """Appends the minibatch's feature standard deviation as one more channel.

    The batch is split into groups of `group_size` examples (example i goes to group
    `i % (batch // group_size)`, as in the paper's code). Per group, for every feature
    (position and channel):

        s = mean over features of sqrt(var over the group + epsilon)

    (the population variance), and `s` is appended as a constant channel to each example
    of the group. The discriminator thus sees how varied a batch is, which discourages
    mode collapse. When `group_size` does not divide the batch (or the batch size is not
    known statically) the whole batch is one group. Computed in float32.

    Args:
        group_size: examples per group (4 in the paper); at most the batch size.
        epsilon: added to the variance before the square root.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float [batch, ..., channels] (images: [batch, H, W, C]).

    Returns:
        float [batch, ..., channels + 1].

    Example:
    >>> import numpy as np
    >>> x = np.random.rand(8, 4, 4, 3).astype("float32")
    >>> tuple(MinibatchStdDev()(x).shape)
    (8, 4, 4, 4)

    Reference:
        [Progressive Growing of GANs](https://arxiv.org/abs/1710.10196), section 3.
    """

    def __init__(self, group_size=4, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.group_size = check_positive("group_size", group_size, integer=True)
        self.epsilon = check_positive("epsilon", epsilon)

    def group_size_for(self, batch_size):
        """The group size used for a batch of `batch_size` (None: not known statically)."""
        if batch_size is None:
            return None
        group = min(self.group_size, batch_size)
        return group if batch_size % group == 0 else batch_size

    def call(self, inputs):
        features = tuple(inputs.shape[1:])
        group = self.group_size_for(inputs.shape[0])
        x = ops.cast(inputs, "float32")
        # [group, groups, ...]: example i is member i // groups of group i % groups.
        y = ops.reshape(x, (-1, 1, *features) if group is None else (group, -1, *features))
        y = y - ops.mean(y, axis=0, keepdims=True)
        std = ops.sqrt(ops.mean(ops.square(y), axis=0) + self.epsilon)  # [groups, ...]
        stat = ops.mean(std, axis=tuple(range(1, len(features) + 1)))  # [groups]
        stat = ops.reshape(stat, (1, -1) + (1,) * len(features))
        stat = ops.broadcast_to(stat, (*ops.shape(y)[:-1], 1))
        stat = ops.reshape(stat, (*ops.shape(inputs)[:-1], 1))
        return ops.concatenate([inputs, ops.cast(stat, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        channels = None if input_shape[-1] is None else input_shape[-1] + 1
        return (*input_shape[:-1], channels)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="tfgans")
class PixelNorm(keras.layers.Layer):
    """Normalizes each position's feature vector to unit root mean square.

        y = x / sqrt(mean over channels of x^2 + epsilon)

    Used after every convolution of the Progressive GAN generator, in place of batch
    normalization, to keep the generator's and discriminator's magnitudes in check.

    Args:
        epsilon: added to the mean square.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    >>> import numpy as np
    >>> y = PixelNorm()(np.array([[3.0, 4.0]], "float32"))  # rms 3.5355
    >>> print(np.round(keras.ops.convert_to_numpy(y), 4))
    [[0.8485 1.1314]]

    Reference:
        [Progressive Growing of GANs](https://arxiv.org/abs/1710.10196), section 4.2.
    """

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = check_positive("epsilon", epsilon)

    def call(self, inputs):
        mean_square = ops.mean(ops.square(inputs), axis=-1, keepdims=True)
        return inputs * ops.rsqrt(mean_square + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def _unit_normal():
    return keras.initializers.RandomNormal(stddev=1.0)


class _Equalized:
    """The equalized learning rate: the kernel is stored N(0, 1) and scaled at run time.

    `scale = gain * sqrt(2 / fan_in)` is He's initialisation constant, applied on every
    call instead of once at initialisation, so that an adaptive optimizer (Adam) moves
    every weight at the same relative speed.
    """

    @property
    def scale(self):
        """`gain * sqrt(2 / fan_in)`, with `fan_in` the kernel's input size (built layers)."""
        fan_in = math.prod(self.kernel.shape[:-1])
        return self.gain * math.sqrt(2.0 / fan_in)

    @property
    def effective_kernel(self):
        """The kernel the layer computes with: the stored kernel times `scale`."""
        return self.kernel * self.scale


@keras.saving.register_keras_serializable(package="tfgans")
class EqualizedDense(_Equalized, keras.layers.Dense):
    """A `keras.layers.Dense` with an equalized learning rate.

        y = activation(x (scale * W) + b),  W ~ N(0, 1),  scale = gain * sqrt(2 / fan_in)

    The default `gain=1` gives He's constant sqrt(2 / fan_in); Progressive GAN's linear
    output layers use `gain = 1 / sqrt(2)` (their std `1 / sqrt(fan_in)`).

    Args:
        units: output size.
        gain: multiplies He's constant.
        **kwargs: `keras.layers.Dense` arguments; `kernel_initializer` defaults to N(0, 1).

    Example:
    >>> layer = EqualizedDense(4)
    >>> _ = layer(keras.ops.ones((1, 8)))
    >>> layer.scale  # sqrt(2 / 8)
    0.5

    Reference:
        [Progressive Growing of GANs](https://arxiv.org/abs/1710.10196), section 4.1.
    """

    def __init__(self, units, gain=1.0, **kwargs):
        kwargs.setdefault("kernel_initializer", _unit_normal())
        super().__init__(units, **kwargs)
        self.gain = check_positive("gain", gain)

    def call(self, inputs, training=None):
        x = ops.matmul(inputs, self.effective_kernel)
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


@keras.saving.register_keras_serializable(package="tfgans")
class EqualizedConv2D(_Equalized, keras.layers.Conv2D):
    """A `keras.layers.Conv2D` with an equalized learning rate.

        y = activation(conv(x, scale * W) + b),  W ~ N(0, 1),
        scale = gain * sqrt(2 / (kernel_h * kernel_w * in_channels))

    Args:
        filters: output channels.
        kernel_size: as for `keras.layers.Conv2D`.
        gain: multiplies He's constant (see `EqualizedDense`).
        **kwargs: `keras.layers.Conv2D` arguments; `kernel_initializer` defaults to
            N(0, 1).

    Example:
    >>> layer = EqualizedConv2D(4, 3, padding="same")
    >>> tuple(layer(keras.ops.ones((1, 8, 8, 2))).shape)
    (1, 8, 8, 4)
    >>> round(layer.scale, 4)  # sqrt(2 / (3 * 3 * 2))
    0.3333

    Reference:
        [Progressive Growing of GANs](https://arxiv.org/abs/1710.10196), section 4.1.
    """

    def __init__(self, filters, kernel_size, gain=1.0, **kwargs):
        kwargs.setdefault("kernel_initializer", _unit_normal())
        super().__init__(filters, kernel_size, **kwargs)
        self.gain = check_positive("gain", gain)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * self.scale)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}
