"""`PartialConv2D`: a convolution over the valid pixels only (Liu et al. 2018).

For a window with the valid-pixel mask M (1 = known) and inputs X:

    x' = W^T (X * M) * sum(1) / sum(M) + b    where sum(M) > 0, else 0
    m' = 1                                    where sum(M) > 0, else 0

`sum(1)` is the window's size (kernel_h * kernel_w * channels) and `sum(M)` the valid
pixels in it (a one-channel mask counts once per input channel), so a window that sees
half its pixels has its response doubled; holes shrink by the kernel's reach per layer.

Reference: [Liu et al., 2018](https://arxiv.org/abs/1804.07723), equations 1 and 2.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfgans")
class PartialConv2D(keras.layers.Layer):
    """A 2-D partial convolution: `(x, valid) -> (x', valid')` (see the module docstring).

    Args:
        filters, kernel_size, strides, padding, use_bias, kernel_initializer: as
            `keras.layers.Conv2D`'s.

    Example:
    >>> layer = PartialConv2D(4, 3)
    >>> out, valid = layer([keras.ops.ones([1, 8, 8, 2]), keras.ops.ones([1, 8, 8, 1])])
    >>> tuple(out.shape), tuple(valid.shape)
    ((1, 8, 8, 4), (1, 8, 8, 1))
    """

    def __init__(self, filters, kernel_size, strides=1, padding="same", use_bias=True,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(
            kernel_size)
        self.strides = int(strides)
        self.padding = padding
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        channels = int(input_shape[0][-1])
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.filters), initializer=self.kernel_initializer,
            name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros",
                                    name="bias") if self.use_bias else None
        self.window = float(self.kernel_size[0] * self.kernel_size[1] * channels)

    def call(self, inputs):
        x, valid = inputs
        valid = ops.cast(valid, x.dtype)
        channels = x.shape[-1]
        raw = ops.conv(x * valid, ops.cast(self.kernel, x.dtype), strides=self.strides,
                       padding=self.padding)
        ones = ops.ones((*self.kernel_size, valid.shape[-1], 1), x.dtype)
        count = ops.conv(valid, ones, strides=self.strides, padding=self.padding)
        if valid.shape[-1] == 1:
            count = count * channels  # a one-channel mask is every channel's
        updated = ops.cast(count > 0.5, x.dtype)
        out = raw * (self.window / ops.maximum(count, 1.0))
        if self.bias is not None:
            out = out + ops.cast(self.bias, x.dtype)
        return out * updated, updated

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
