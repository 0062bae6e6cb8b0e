"""Discriminator normalizations behind one switch: none, spectral, weight, layer or
orthonormal (regularization)."""

import keras
from keras import ops

from tfgans.layers.orthogonal import OrthonormalRegularizer
from tfgans.layers.spectral import maybe_spectral_norm

#: The kinds `normalize_layer` accepts.
NORMALIZATIONS = ("none", "spectral", "weight", "layer", "orthonormal")

#: The weight `beta` of the "orthonormal" kind's `||W^T W - I||_F^2` per kernel.
ORTHONORMAL_BETA = 1e-4

_TRANSPOSED = (
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)


def check_normalization(kind, name="norm"):
    """Returns `kind` if it is one of `NORMALIZATIONS`, or raises a ValueError naming
    the argument `name`."""
    if not isinstance(kind, str) or kind not in NORMALIZATIONS:
        raise ValueError(f"`{name}` must be one of {NORMALIZATIONS}. Received: {name}={kind!r}")
    return kind


def normalize_layer(layer, kind, power_iterations=1):
    """Returns `layer` normalized by `kind`, ready to call like the layer itself.

    - `"none"`: `layer` itself.
    - `"spectral"`: `keras.layers.SpectralNormalization(layer)` (Miyato et al., 2018),
      the kernel divided by its largest singular value (power iteration in training).
    - `"weight"`: `WeightNormalization(layer)` (Salimans & Kingma, 2016).
    - `"layer"`: `WithLayerNormalization(layer)`: the layer's outputs layer-normalized
      per example (as in the WGAN-GP critic, which must not use batch normalization).
    - `"orthonormal"`: `layer` itself with `OrthonormalRegularizer(ORTHONORMAL_BETA)` as
      its kernel regularizer (Brock et al., 2017; the fourth method Miyato et al. 2018
      compare): `beta * ||W^T W - I||_F^2` lands in the network's `losses`, which the
      trainers add to the discriminator's loss. `layer` must not be built yet.

    Every result takes `training=` like a spectrally normalized layer does.

    Args:
        layer: a layer with a `kernel` whose last axis is the output (`Dense`, `Conv2D`).
        kind: one of `NORMALIZATIONS`.
        power_iterations: power iterations per training step (`"spectral"` only).

    Returns:
        A layer.

    Example:
    >>> type(normalize_layer(keras.layers.Conv2D(8, 3), "weight")).__name__
    'WeightNormalization'
    """
    check_normalization(kind, "kind")
    if kind == "spectral":
        return maybe_spectral_norm(layer, True, power_iterations)
    if kind == "weight":
        return WeightNormalization(layer, dtype=layer.dtype_policy, name=f"wn_{layer.name}")
    if kind == "layer":
        return WithLayerNormalization(layer, dtype=layer.dtype_policy, name=f"ln_{layer.name}")
    if kind == "orthonormal":
        if layer.built:
            raise ValueError(
                f"normalize_layer(kind='orthonormal') needs an unbuilt layer; {layer.name!r} "
                "is built already, so its kernel exists without the regularizer.")
        layer.kernel_regularizer = OrthonormalRegularizer(ORTHONORMAL_BETA)
    return layer


@keras.saving.register_keras_serializable(package="tfgans")
class WeightNormalization(keras.layers.Wrapper):
    """Reparametrizes a layer's kernel as a direction and a length per output unit.

        w[..., k] = g[k] * v[..., k] / ||v[..., k]||

    `v` is the wrapped layer's own kernel variable and `g` a new weight, one per output
    channel, initialised to the norms of the initial kernel's columns (so the layer's
    initial function is unchanged). Both are trained; gradients flow through the
    normalization. The wrapped layer computes with `w` (substituted for its kernel
    through a `keras.StatelessScope`), its other weights unchanged.

    `initialize_from_data(inputs)` is the paper's data-dependent initialisation: it sets
    `g` and the bias so that the pre-activations on `inputs` have mean 0 and variance 1 per
    output channel.

    Args:
        layer: a layer with a `kernel` whose last axis is the output (`Dense`,
            `Conv1D/2D/3D`); transposed convolutions are rejected.
        scale_initializer: None (the default) initialises `g` to the initial kernel's
            column norms, so the layer's initial function is that of the wrapped layer;
            or a Keras initializer for `g` (the paper's code uses ones).
        train_scale: whether `g` is trained (True, the default) or stays at its initial
            value (or the one `initialize_from_data` sets): the paper's MNIST code keeps the
            hidden layers' scale fixed, so only the directions and biases learn.
        **kwargs: base wrapper arguments (`name`, `dtype`, ...).

    Example:
    >>> import numpy as np
    >>> wn = WeightNormalization(keras.layers.Dense(3))
    >>> tuple(wn(np.ones((2, 4), "float32")).shape)
    (2, 3)
    >>> x = np.random.default_rng(0).normal(3.0, 2.0, (64, 4)).astype("float32")
    >>> y = keras.ops.convert_to_numpy(wn.initialize_from_data(x))
    >>> bool(abs(y.mean(0)).max() < 1e-4 and abs(y.std(0) - 1).max() < 1e-3)
    True

    Reference:
        [Weight Normalization](https://arxiv.org/abs/1602.07868) (Salimans & Kingma, 2016).
    """

    def __init__(self, layer, train_scale=True, scale_initializer=None, **kwargs):
        super().__init__(layer, **kwargs)
        self.scale_initializer = (None if scale_initializer is None
                                  else keras.initializers.get(scale_initializer))
        if not isinstance(train_scale, bool):
            raise ValueError(f"`train_scale` must be a bool. Received: train_scale={train_scale!r}")
        self.train_scale = train_scale
        if isinstance(layer, _TRANSPOSED):
            raise ValueError(
                "`layer` must keep its outputs on the kernel's last axis; transposed "
                f"convolutions do not. Received: layer={type(layer).__name__}"
            )

    def build(self, input_shape):
        super().build(input_shape)
        if not hasattr(self.layer, "kernel"):
            raise ValueError(
                f"`layer` must have a `kernel`. Received: layer={type(self.layer).__name__}"
            )
        kernel = self.layer.kernel
        # Read when `g` is initialized (after the kernel, possibly deferred: a build in a
        # symbolic trace creates both in a stateless scope).
        self.g = self.add_weight(
            shape=(kernel.shape[-1],),
            initializer=self.scale_initializer or (
                lambda shape, dtype=None: ops.cast(self._column_norms(kernel), dtype)),
            name="g",
            trainable=self.train_scale,
        )

    @staticmethod
    def _column_norms(kernel):
        axes = tuple(range(len(kernel.shape) - 1))
        return ops.sqrt(ops.sum(ops.square(kernel), axis=axes))

    def normalized_kernel(self):
        """The kernel the layer computes with: `g * v / ||v||` per output channel."""
        v = self.layer.kernel
        return ops.cast(self.g, v.dtype) * v / self._column_norms(v)

    def call(self, inputs, training=None):
        return self._call_with(inputs, self.normalized_kernel())

    def _call_with(self, inputs, kernel, bias=None):
        """The wrapped layer on `inputs` computing with `kernel` (and `bias`, when given)
        in place of its own. Every other variable keeps its current value (also inside an
        outer stateless scope, whose mapping a nested scope would otherwise hide)."""
        substitutes = {id(self.layer.kernel): kernel}
        if bias is not None:
            substitutes[id(self.layer.bias)] = bias
        mapping = [(v, substitutes.get(id(v), v.value)) for v in self.layer.variables]
        with keras.StatelessScope(mapping):
            return self.layer(inputs)

    def initialize_from_data(self, inputs, epsilon=1e-6):
        """Data-dependent initialisation (Salimans & Kingma 2016, section 3): with `t` the
        pre-activations of `inputs` under the current direction and scale, no bias, sets
        `g <- g / std(t)` and `bias <- -mean(t) / std(t)` per output channel (moments over
        every axis but the last), so that the layer's pre-activations on `inputs` have mean
        0 and variance 1. The wrapped layer's activation must be linear. Returns the layer's
        outputs on `inputs` after the change."""
        if not self.built:
            self.build(tuple(inputs.shape))
        activation = getattr(self.layer, "activation", None)
        if activation not in (None, keras.activations.linear):
            raise ValueError(
                "initialize_from_data standardises pre-activations: the wrapped layer must "
                f"have a linear activation. Received: activation={activation}")
        bias = getattr(self.layer, "bias", None)
        zero_bias = None if bias is None else ops.zeros_like(bias.value)
        t = ops.cast(self._call_with(inputs, self.normalized_kernel(), zero_bias), "float32")
        axes = tuple(range(len(t.shape) - 1))
        mean = ops.mean(t, axis=axes)
        std = ops.sqrt(ops.mean(ops.square(t - mean), axis=axes) + epsilon)
        self.g.assign(ops.cast(ops.cast(self.g, "float32") / std, self.g.dtype))
        if bias is not None:
            bias.assign(ops.cast(-mean / std, bias.dtype))
        return self(inputs)

    def get_config(self):
        scale_initializer = (None if self.scale_initializer is None
                             else keras.initializers.serialize(self.scale_initializer))
        return {**super().get_config(), "train_scale": self.train_scale,
                "scale_initializer": scale_initializer}

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


@keras.saving.register_keras_serializable(package="tfgans")
class WithLayerNormalization(keras.layers.Wrapper):
    """A layer followed by layer normalization over all of an example's features.

        y = (z - mean(z)) / sqrt(var(z) + epsilon) * gamma + beta,  z = layer(x)

    with the mean and variance over every axis but the batch ([H, W, C] for a
    convolution) and `gamma`, `beta` per channel: `keras.layers.GroupNormalization` with
    one group. This is the critic normalization of WGAN-GP's ResNet (Gulrajani et al.,
    2017), which needs per-example statistics so the gradient penalty stays per example.

    Args:
        layer: any layer.
        epsilon: added to the variance.
        **kwargs: base wrapper arguments (`name`, `dtype`, ...).

    Example:
    >>> import numpy as np
    >>> ln = WithLayerNormalization(keras.layers.Conv2D(4, 3))
    >>> tuple(ln(np.random.rand(2, 8, 8, 3).astype("float32")).shape)
    (2, 6, 6, 4)

    Reference:
        [Layer Normalization](https://arxiv.org/abs/1607.06450) (Ba et al., 2016),
        [Improved Training of Wasserstein GANs](https://arxiv.org/abs/1704.00028).
    """

    def __init__(self, layer, epsilon=1e-5, **kwargs):
        super().__init__(layer, **kwargs)
        self.epsilon = epsilon
        self.norm = keras.layers.GroupNormalization(
            groups=1, epsilon=epsilon, dtype=self.dtype_policy, name="layer_norm"
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.norm.build(self.layer.compute_output_shape(input_shape))

    def call(self, inputs, training=None):
        return self.norm(self.layer(inputs, training=training))

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
