"""The unrolled-GAN paper's networks for 2-D points (its mixture-of-Gaussians experiment).

Metz et al. 2017, appendix A: the generator is a fully connected network with 2 hidden
layers of 128 ReLU units and a linear projection to 2 dimensions, every weight initialised
orthogonal with scale 0.8; the discriminator scales its input down by 4 (to about [-1, 1])
and has one hidden layer of 128 ReLU units before a linear logit. The noise is 256-D.

Reference: https://arxiv.org/abs/1611.02163
"""

import keras

from tfgans.models import common


def _check_units(name, units):
    return common.check_int_tuple(name, units)


def _dense(units, gain, activation, dtype, name=None):
    return keras.layers.Dense(
        units, activation=activation, dtype=dtype, name=name,
        kernel_initializer=keras.initializers.Orthogonal(gain=gain),
    )


@keras.saving.register_keras_serializable(package="tfgans")
class PointsGenerator(keras.Model):
    """Noise [batch, latent_dim] -> points [batch, dim]: ReLU dense layers, linear output.

    Args:
        dim: the points' dimension (2).
        latent_dim: size of the noise vector.
        hidden_units: units of each hidden layer ((128, 128) in the paper).
        init_gain: gain of the orthogonal initialisation (0.8 in the paper).
        **kwargs: base model arguments (`name`, `dtype`, ...).

    Example:
    >>> g = PointsGenerator(2, latent_dim=8, hidden_units=(16,))
    >>> tuple(g(keras.random.normal((4, 8))).shape)
    (4, 2)
    """

    def __init__(self, dim=2, latent_dim=256, hidden_units=(128, 128), init_gain=0.8,
                 **kwargs):
        super().__init__(**kwargs)
        self.dim = common.check_positive_int("dim", dim)
        self.latent_dim = common.check_positive_int("latent_dim", latent_dim)
        self.hidden_units = _check_units("hidden_units", hidden_units)
        if not init_gain > 0:
            raise ValueError(f"`init_gain` must be positive. Received: init_gain={init_gain!r}")
        self.init_gain = float(init_gain)
        self.hidden = [_dense(u, self.init_gain, "relu", self.dtype_policy)
                       for u in self.hidden_units]
        self.out = _dense(self.dim, self.init_gain, None, "float32", name="points")

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "latent_dim": self.latent_dim,
                "hidden_units": self.hidden_units, "init_gain": self.init_gain}


@keras.saving.register_keras_serializable(package="tfgans")
class PointsDiscriminator(keras.Model):
    """Points [batch, dim] -> logits [batch, 1]: input times `input_scale`, ReLU dense
    layers, a linear logit (higher means "real").

    Args:
        hidden_units: units of each hidden layer ((128,) in the paper).
        input_scale: the input is multiplied by this first (1/4 in the paper).
        init_gain: gain of the orthogonal initialisation.
        **kwargs: base model arguments.

    Example:
    >>> d = PointsDiscriminator(hidden_units=(16,))
    >>> tuple(d(keras.random.normal((4, 2))).shape)
    (4, 1)
    """

    def __init__(self, hidden_units=(128,), input_scale=0.25, init_gain=0.8, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = _check_units("hidden_units", hidden_units)
        if not input_scale > 0 or not init_gain > 0:
            raise ValueError(
                "`input_scale` and `init_gain` must be positive. Received: "
                f"input_scale={input_scale!r}, init_gain={init_gain!r}")
        self.input_scale = float(input_scale)
        self.init_gain = float(init_gain)
        self.hidden = [_dense(u, self.init_gain, "relu", self.dtype_policy)
                       for u in self.hidden_units]
        self.logit = _dense(1, self.init_gain, None, "float32", name="logit")

    def call(self, inputs, training=None):
        x = inputs * self.input_scale
        for layer in self.hidden:
            x = layer(x)
        return self.logit(x)

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units,
                "input_scale": self.input_scale, "init_gain": self.init_gain}


def build_points(image_shape, latent_dim, num_classes=None, *, width=128, generator_layers=2,
                 discriminator_layers=1, init_gain=0.8, input_scale=0.25):
    """The unrolled-GAN paper's generator and discriminator for points of shape
    `image_shape` (`(2,)`).

    Args:
        image_shape: the shape of one point, `(dim,)`.
        latent_dim: size of the noise vector (256 in the paper).
        num_classes: must be None (the 2-D experiments are unconditional).
        width: units of every hidden layer (128).
        generator_layers, discriminator_layers: hidden layers of each (2 and 1).
        init_gain: orthogonal initialisation gain (0.8).
        input_scale: the discriminator's input scaling (1/4).

    Returns:
        `(generator, discriminator)`.
    """
    shape = tuple(image_shape)
    if len(shape) != 1:
        raise ValueError(
            "The points networks take points [batch, dim] (data.name ring_of_gaussians or "
            f"grid_of_gaussians). Received samples of shape {shape}.")
    if num_classes is not None:
        raise ValueError(
            f"The points networks are unconditional. Received: num_classes={num_classes}")
    generator = PointsGenerator(shape[0], latent_dim, (width,) * generator_layers, init_gain)
    discriminator = PointsDiscriminator((width,) * discriminator_layers, input_scale,
                                        init_gain)
    return generator, discriminator
