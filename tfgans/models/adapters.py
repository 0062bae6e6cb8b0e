"""Adapters for networks written to another call contract, such as keras-io's conditional
GAN, whose generator takes noise and a one-hot label concatenated into one vector and whose
discriminator takes the image with one-hot label channels appended.

tfgans calls a conditional generator as `G([noise, labels])` and a conditional
discriminator as `D([images, labels])` (labels int32 class ids [batch]); these wrappers
make the concatenating networks fit that contract, unchanged inside. `ConcatInputsGenerator`
does the same for a generator called with several vectors (InfoGAN's `G([noise, codes])`).

Example (keras-io's conditional GAN networks, as published):
```python
gan = tfgans.GAN(
    tfgans.models.OneHotConcatGenerator(generator, num_classes=10),
    tfgans.models.OneHotChannelsDiscriminator(discriminator, num_classes=10),
    latent_dim=128, num_classes=10)
```

Reference: https://keras.io/examples/generative/conditional_gan/
"""

import keras
from keras import ops


def _one_hot(labels, num_classes, dtype):
    labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    return ops.cast(ops.one_hot(labels, num_classes), dtype)


class _NetworkWrapper(keras.Model):
    """A model around one `network`, serialised with it."""

    def __init__(self, network, **kwargs):
        super().__init__(**kwargs)
        self.network = network

    def get_config(self):
        return {**super().get_config(),
                "network": keras.saving.serialize_keras_object(self.network)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)


class _Wrapper(_NetworkWrapper):
    def __init__(self, network, num_classes, **kwargs):
        super().__init__(network, **kwargs)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an integer >= 2. Received: {num_classes!r}")
        self.num_classes = num_classes

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="tfgans")
class OneHotConcatGenerator(_Wrapper):
    """`G([noise, labels]) = network(concatenate([noise, one_hot(labels)]))`.

    Args:
        network: a generator taking one vector [batch, latent_dim + num_classes].
        num_classes: the number of classes.
    """

    @property
    def latent_dim(self):
        """The noise size: the network's input size less the one-hot labels."""
        return int(self.network.inputs[0].shape[-1]) - self.num_classes

    def call(self, inputs, training=None):
        noise, labels = inputs
        one_hot = _one_hot(labels, self.num_classes, noise.dtype)
        return self.network(ops.concatenate([noise, one_hot], axis=-1), training=training)


@keras.saving.register_keras_serializable(package="tfgans")
class OneHotChannelsDiscriminator(_Wrapper):
    """`D([images, labels]) = network(images with num_classes one-hot label channels)`.

    Args:
        network: a discriminator taking images [batch, H, W, C + num_classes].
        num_classes: the number of classes.
    """

    def call(self, inputs, training=None):
        images, labels = inputs
        one_hot = _one_hot(labels, self.num_classes, images.dtype)
        height, width = ops.shape(images)[1], ops.shape(images)[2]
        channels = ops.broadcast_to(one_hot[:, None, None, :],
                                    (ops.shape(images)[0], height, width, self.num_classes))
        return self.network(ops.concatenate([images, channels], axis=-1), training=training)


@keras.saving.register_keras_serializable(package="tfgans")
class ConcatInputsGenerator(_NetworkWrapper):
    """`G([a, b, ...]) = network(concatenate([a, b, ...]))`: a generator of one vector
    called with several, e.g. InfoGAN's `G([noise, codes])` on an `MLPGenerator`.

    Args:
        network: a generator taking one vector [batch, sum of the inputs' sizes].

    Example:
    >>> from tfgans.models import MLPGenerator
    >>> g = ConcatInputsGenerator(MLPGenerator((28, 28, 1), latent_dim=8 + 10,
    ...                                        hidden_units=(16,)))
    >>> tuple(g([keras.ops.zeros((2, 8)), keras.ops.zeros((2, 10))]).shape)
    (2, 28, 28, 1)
    """

    def call(self, inputs, training=None):
        inputs = list(inputs)
        dtype = inputs[0].dtype
        return self.network(ops.concatenate([ops.cast(x, dtype) for x in inputs], axis=-1),
                            training=training)
