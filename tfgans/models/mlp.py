"""The original fully connected GAN pair, unconditional or class-conditional.

Reference: [Goodfellow et al., 2014, Generative Adversarial Nets](
https://arxiv.org/abs/1406.2661).
"""

import math

import keras
from keras import ops

from tfgans.layers import DiscriminatorHead, maybe_spectral_norm
from tfgans.models import common


def _serialize_activation(activation):
    if activation is None or isinstance(activation, str):
        return activation
    return keras.activations.serialize(activation)


@keras.saving.register_keras_serializable(package="tfgans")
class MLPGenerator(keras.Model):
    """MLP generator: noise (and a label) through ReLU dense layers to `output_shape`.

    The output layer computes in float32 and applies `output_activation` ("tanh" for
    images in [-1, 1]; None for unbounded outputs such as 2-D points). When `num_classes`
    is set, the generator is called on `[noise, labels]` and a label embedding is
    concatenated to the noise (Mirza & Osindero, 2014).

    Args:
        output_shape: shape of one sample, without the batch dimension; stored as
            `output_shape_`.
        latent_dim: size of the noise vector.
        hidden_units: units of each hidden layer.
        output_activation: activation of the output layer (a Keras activation name or
            function), or None.
        num_classes: number of classes for a conditional generator, or None.
        embedding_dim: size of the label embedding (conditional generators only).
        **kwargs: base model arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: noise float [batch, latent_dim], or `[noise, labels]` when conditional.

    Returns:
        Float32 samples [batch, *output_shape].

    Example:
    >>> g = MLPGenerator((2,), latent_dim=8, output_activation=None)
    >>> tuple(g(keras.random.normal((4, 8))).shape)
    (4, 2)

    Reference:
        [GAN](https://arxiv.org/abs/1406.2661),
        [Conditional GANs](https://arxiv.org/abs/1411.1784).
    """

    def __init__(
        self,
        output_shape,
        latent_dim=128,
        hidden_units=(128, 128),
        output_activation="tanh",
        num_classes=None,
        embedding_dim=16,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.output_shape_ = common.check_int_tuple("output_shape", output_shape)
        self.latent_dim = common.check_positive_int("latent_dim", latent_dim)
        self.hidden_units = common.check_int_tuple("hidden_units", hidden_units, True)
        try:
            keras.activations.get(output_activation)
        except ValueError:
            raise ValueError(
                "`output_activation` must be a Keras activation or None. "
                f"Received: output_activation={output_activation!r}"
            ) from None
        self.output_activation = output_activation
        self.num_classes = common.check_positive_int("num_classes", num_classes, True)
        self.embedding_dim = common.check_positive_int("embedding_dim", embedding_dim)

        dtype = self.dtype_policy
        self.embedding = None
        if self.num_classes is not None:
            self.embedding = keras.layers.Embedding(
                self.num_classes, self.embedding_dim, dtype=dtype, name="label_embedding"
            )
        self.hidden = [
            keras.layers.Dense(units, activation="relu", dtype=dtype)
            for units in self.hidden_units
        ]
        self.out = keras.layers.Dense(
            math.prod(self.output_shape_), activation=output_activation, dtype="float32",
            name="output",
        )
        self.reshape = keras.layers.Reshape(self.output_shape_, dtype="float32")

    @property
    def image_shape(self):
        """Alias of `output_shape_`, the shape of one sample."""
        return self.output_shape_

    def call(self, inputs, training=None):
        x = common.generator_input(self, inputs)
        for layer in self.hidden:
            x = layer(x)
        return self.reshape(self.out(x))

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": self.output_shape_,
            "latent_dim": self.latent_dim,
            "hidden_units": self.hidden_units,
            "output_activation": _serialize_activation(self.output_activation),
            "num_classes": self.num_classes,
            "embedding_dim": self.embedding_dim,
        }


@keras.saving.register_keras_serializable(package="tfgans")
class MLPDiscriminator(keras.Model):
    """MLP discriminator: flattened input (and a label) through LeakyReLU dense layers.

    Ends in a dense logit (float32; higher means "real"). Conditioning, when
    `num_classes` is set, is as in `DCGANDiscriminator`: "concat" (default here; a label
    embedding concatenated to the flattened input), "projection", or "acgan" (no labels
    input, returns `[logits, class_logits]`).

    Args:
        hidden_units: units of each hidden layer.
        num_classes: number of classes for a conditional discriminator, or None.
        conditioning: None, "concat", "projection" or "acgan"; None means "concat" when
            `num_classes` is set.
        embedding_dim: size of the label embedding for "concat" conditioning.
        spectral_norm: spectrally normalize every dense layer.
        **kwargs: base model arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: samples float [batch, ...], or `[samples, labels]` for "concat" and
            "projection" conditioning.
        training: whether spectral normalization updates its power iteration.

    Returns:
        Logits float32 [batch, 1], or `[logits, class_logits]` for "acgan".

    Example:
    >>> d = MLPDiscriminator(hidden_units=(32,))
    >>> tuple(d(keras.random.normal((4, 2))).shape)
    (4, 1)

    Reference:
        [GAN](https://arxiv.org/abs/1406.2661).
    """

    def __init__(
        self,
        hidden_units=(128, 128),
        num_classes=None,
        conditioning=None,
        embedding_dim=16,
        spectral_norm=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_units = common.check_int_tuple("hidden_units", hidden_units, True)
        self.num_classes = common.check_positive_int("num_classes", num_classes, True)
        self.conditioning = common.check_conditioning(
            self.num_classes, conditioning, default="concat"
        )
        self.embedding_dim = common.check_positive_int("embedding_dim", embedding_dim)
        self.spectral_norm = common.check_bool("spectral_norm", spectral_norm)

        dtype = self.dtype_policy
        self.flatten = keras.layers.Flatten(dtype=dtype)
        self.embedding = None
        if self.conditioning == "concat":
            self.embedding = keras.layers.Embedding(
                self.num_classes, self.embedding_dim, dtype=dtype, name="label_embedding"
            )
        self.hidden = [
            maybe_spectral_norm(keras.layers.Dense(units, dtype=dtype), spectral_norm)
            for units in self.hidden_units
        ]
        self.head = DiscriminatorHead(
            self.num_classes, self.conditioning, spectral_norm, dtype="float32", name="head"
        )

    @property
    def with_labels(self):
        """Whether the discriminator is called on `[samples, labels]`."""
        return self.conditioning in ("concat", "projection")

    def call(self, inputs, training=None):
        samples, labels = common.split_inputs(self, inputs, "samples", self.with_labels)
        x = self.flatten(samples)
        if self.embedding is not None:
            x = ops.concatenate([x, ops.cast(self.embedding(labels), x.dtype)], axis=-1)
        for layer in self.hidden:
            x = ops.leaky_relu(layer(x, training=training), negative_slope=0.2)
        return self.head(x, labels, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_units": self.hidden_units,
            "num_classes": self.num_classes,
            "conditioning": self.conditioning,
            "embedding_dim": self.embedding_dim,
            "spectral_norm": self.spectral_norm,
        }


def build_mlp(
    image_shape,
    latent_dim,
    num_classes=None,
    *,
    hidden_units=(128, 128),
    output_activation="tanh",
    spectral_norm=False,
    conditioning=None,
    embedding_dim=16,
):
    """Builds an MLP generator and discriminator for samples of shape `image_shape`.

    Args:
        image_shape: shape of one sample (an image, or e.g. `(2,)` for 2-D points).
        latent_dim: size of the noise vector.
        num_classes: number of classes for a conditional pair, or None.
        hidden_units: hidden layer sizes of both networks.
        output_activation: the generator's output activation, or None.
        spectral_norm: spectrally normalize the discriminator.
        conditioning: the discriminator's conditioning (see `MLPDiscriminator`).
        embedding_dim: label embedding size of both networks.

    Returns:
        `(generator, discriminator)`.

    Example:
    >>> g, d = build_mlp((2,), latent_dim=8, output_activation=None)
    >>> tuple(d(g(keras.random.normal((4, 8)))).shape)
    (4, 1)
    """
    generator = MLPGenerator(
        image_shape, latent_dim, hidden_units=hidden_units,
        output_activation=output_activation, num_classes=num_classes,
        embedding_dim=embedding_dim,
    )
    discriminator = MLPDiscriminator(
        hidden_units=hidden_units, num_classes=num_classes, conditioning=conditioning,
        embedding_dim=embedding_dim, spectral_norm=spectral_norm,
    )
    return generator, discriminator
