"""Self-attention over the positions of a feature map (SAGAN)."""

import keras
from keras import ops

from tfgans.layers._checks import check_positive
from tfgans.layers.spectral import maybe_spectral_norm


@keras.saving.register_keras_serializable(package="tfgans")
class SelfAttention(keras.layers.Layer):
    """SAGAN self-attention block: `y = x + gamma * o`, the identity at initialisation.

    For a feature map `x` [batch, H, W, C] with positions i, j = 1..H*W, four bias-free
    1x1 convolutions map `C` channels to `C' = max(1, C // reduction)` (f, g, h) and
    back to `C` (v):

        s_ij = f(x_i)^T g(x_j)
        beta_ji = softmax_i(s_ij)              # where output position j attends
        o_j = v(sum_i beta_ji h(x_i))
        y_j = x_j + gamma * o_j

    `gamma` is one learned scalar initialised to 0, so the block starts as the identity
    and lets the network learn how much non-local evidence to use. The softmax runs in
    float32 under mixed precision.

    Args:
        reduction: channel reduction of f, g and h (8 in the paper).
        spectral_norm: wrap the four convolutions in `keras.layers.SpectralNormalization`
            (SAGAN uses it in both networks).
        kernel_regularizer: regularizer of the four kernels.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float [batch, H, W, C].
        training: whether spectral normalization updates its power iteration.

    Returns:
        float [batch, H, W, C].

    Example:
    >>> import numpy as np
    >>> x = np.random.rand(2, 4, 4, 16).astype("float32")
    >>> bool(np.all(SelfAttention()(x) == x))  # gamma starts at 0
    True

    Reference:
        [Self-Attention GANs](https://arxiv.org/abs/1805.08318) (Zhang et al., 2019).
    """

    def __init__(self, reduction=8, spectral_norm=False, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.reduction = check_positive("reduction", reduction, integer=True)
        self.spectral_norm = spectral_norm
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                "SelfAttention expects inputs [batch, H, W, channels] with known channels. "
                f"Received: input_shape={input_shape}"
            )
        channels = input_shape[-1]
        inner = max(1, channels // self.reduction)

        def conv(filters, name):
            layer = keras.layers.Conv2D(
                filters, 1, use_bias=False, kernel_regularizer=self.kernel_regularizer,
                dtype=self.dtype_policy, name=name,
            )
            return maybe_spectral_norm(layer, self.spectral_norm)

        self.key_conv = conv(inner, "f")
        self.query_conv = conv(inner, "g")
        self.value_conv = conv(inner, "h")
        self.output_conv = conv(channels, "v")
        for layer in (self.key_conv, self.query_conv, self.value_conv):
            layer.build(input_shape)
        self.output_conv.build((*input_shape[:-1], inner))
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")

    def call(self, inputs, training=None):
        shape = ops.shape(inputs)
        positions = shape[1] * shape[2]

        def flat(conv):  # [batch, H*W, C']
            y = conv(inputs, training=training)
            return ops.reshape(y, (-1, positions, y.shape[-1]))

        keys, queries, values = flat(self.key_conv), flat(self.query_conv), flat(self.value_conv)
        scores = ops.matmul(queries, ops.transpose(keys, (0, 2, 1)))  # [batch, j, i]
        weights = ops.cast(ops.softmax(ops.cast(scores, "float32"), axis=-1), values.dtype)
        attended = ops.reshape(
            ops.matmul(weights, values), (-1, shape[1], shape[2], values.shape[-1])
        )
        outputs = self.output_conv(attended, training=training)
        return inputs + ops.cast(self.gamma, outputs.dtype) * outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "spectral_norm": self.spectral_norm,
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }
