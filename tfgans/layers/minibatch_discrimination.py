"""Minibatch discrimination (Salimans et al., 2016)."""

import keras
from keras import ops


class MinibatchDiscrimination(keras.layers.Layer):
    """Appends, per example, how close it is to the other examples of its minibatch.

    With features `x_i` [A], a learned tensor `T` [A, B * C] gives `M_i = x_i T` reshaped
    to [B, C]; for each of the B kernels,

        c_b(i, j) = exp(-||M_{i,b} - M_{j,b}||_L1)
        o(x_i)_b  = sum_j c_b(i, j)

    and the output is `concat(x_i, o(x_i))`, [A + B]. A discriminator with this layer can
    tell a collapsed generator (all samples alike: every `c_b = 1`, `o = N`) from varied
    data (distant samples: `o` near 1).

    The sum includes `j = i` by default, as the paper's formula does; the self-term is
    exactly `exp(0) = 1`. The authors' code (openai/improved-gan) excludes it (it adds
    `1e6` to the diagonal distance); `include_self=False` does the same, subtracting 1.

    Distribution: `o` is computed over the examples the layer sees, the per-replica batch
    under `tf.distribute`, so its value depends on the replica count (as batch
    normalisation's statistics do).

    Args:
        num_kernels: B, the number of closeness features appended.
        kernel_dim: C, the dimension of each kernel's projection.
        include_self: whether `o` counts the example itself (`j = i`).
        kernel_initializer: initializer of `T` (the paper's code: normal, stddev 0.05).
        **kwargs: passed to `keras.layers.Layer`.

    Input shape: [N, A] (flatten feature maps first). Output shape: [N, A + B].

    Example:
    >>> layer = MinibatchDiscrimination(num_kernels=5, kernel_dim=3)
    >>> tuple(layer(np.ones((4, 8), "float32")).shape)
    (4, 13)

    Reference: Salimans et al., "Improved Techniques for Training GANs", 2016, section 3.2,
        https://arxiv.org/abs/1606.03498
    """

    def __init__(
        self,
        num_kernels,
        kernel_dim,
        include_self=True,
        kernel_initializer="random_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("num_kernels", num_kernels), ("kernel_dim", kernel_dim)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value}")
        self.num_kernels = num_kernels
        self.kernel_dim = kernel_dim
        self.include_self = include_self
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "MinibatchDiscrimination expects inputs [batch, features] with known features "
                f"(flatten feature maps first). Received: input_shape={input_shape}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=self.kernel_initializer,
        )

    def call(self, inputs):
        m = ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype))
        m = ops.reshape(m, (-1, self.num_kernels, self.kernel_dim))
        # [N, N, B]: L1 distance between examples i and j under kernel b.
        distance = ops.sum(ops.abs(m[:, None] - m[None, :]), axis=-1)
        closeness = ops.exp(-distance)
        if not self.include_self:
            n = ops.shape(inputs)[0]
            closeness = closeness * (1.0 - ops.eye(n, dtype=closeness.dtype))[:, :, None]
        return ops.concatenate([inputs, ops.sum(closeness, axis=1)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] + self.num_kernels)

    def get_config(self):
        return {
            **super().get_config(),
            "num_kernels": self.num_kernels,
            "kernel_dim": self.kernel_dim,
            "include_self": self.include_self,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
