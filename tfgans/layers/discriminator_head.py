"""The last layer of a discriminator: a real/fake logit, optionally class-conditional."""

import keras
from keras import ops

from tfgans.layers.spectral import maybe_spectral_norm

#: Ways a discriminator can use class labels; None means unconditional.
CONDITIONINGS = (None, "concat", "projection", "acgan")


@keras.saving.register_keras_serializable(package="tfgans")
class DiscriminatorHead(keras.layers.Layer):
    """Maps discriminator features `phi(x)` to logits, with or without labels.

    - `None` or `"concat"`: `logit = psi(phi(x))`, a dense layer to one unit ("concat"
      conditions the discriminator's input, not its head).
    - `"projection"` (Miyato & Koyama, 2018): `logit = psi(phi(x)) + <V[y], phi(x)>`.
      The class embedding `V` is held as the kernel of a bias-free dense layer with
      `num_classes` units, whose column `y` is picked: the same function, and it builds
      lazily and takes spectral normalization like any dense layer.
    - `"acgan"` (Odena et al., 2017): returns `[logit, class_logits]`, with class logits
      from a second dense layer with `num_classes` units. Labels are not an input.

    Higher logits mean "real".

    Args:
        num_classes: number of classes, or None for an unconditional head.
        conditioning: one of None, "concat", "projection", "acgan".
        spectral_norm: wrap each dense layer in `keras.layers.SpectralNormalization`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    >>> import numpy as np
    >>> head = DiscriminatorHead(num_classes=10, conditioning="projection")
    >>> tuple(head(np.ones((2, 8), "float32"), np.array([0, 3], "int32")).shape)
    (2, 1)

    Reference:
        [cGANs with Projection Discriminator](https://arxiv.org/abs/1802.05637),
        [Conditional Image Synthesis with Auxiliary Classifier GANs](
        https://arxiv.org/abs/1610.09585).
    """

    def __init__(self, num_classes=None, conditioning=None, spectral_norm=False, **kwargs):
        super().__init__(**kwargs)
        if conditioning not in CONDITIONINGS:
            raise ValueError(
                f"`conditioning` must be one of {CONDITIONINGS}. "
                f"Received: conditioning={conditioning!r}"
            )
        if (num_classes is None) != (conditioning is None):
            raise ValueError(
                "`num_classes` and `conditioning` must be both set or both None. "
                f"Received: num_classes={num_classes!r}, conditioning={conditioning!r}"
            )
        self.num_classes = num_classes
        self.conditioning = conditioning
        self.spectral_norm = spectral_norm

        def dense(units, **dense_kwargs):
            layer = keras.layers.Dense(units, dtype=self.dtype_policy, **dense_kwargs)
            return maybe_spectral_norm(layer, spectral_norm)

        self.logit = dense(1, name="logit")
        self.projection = None
        self.classifier = None
        if conditioning == "projection":
            self.projection = dense(num_classes, use_bias=False, name="projection")
        elif conditioning == "acgan":
            self.classifier = dense(num_classes, name="classifier")

    def call(self, features, labels=None, training=None):
        logits = self.logit(features, training=training)
        if self.projection is not None:
            if labels is None:
                raise ValueError("A projection head needs `labels`. Received: labels=None")
            scores = self.projection(features, training=training)
            labels = ops.reshape(ops.cast(labels, "int32"), (-1, 1))
            logits = logits + ops.take_along_axis(scores, labels, axis=1)
        if self.classifier is not None:
            return [logits, self.classifier(features, training=training)]
        return logits

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "conditioning": self.conditioning,
            "spectral_norm": self.spectral_norm,
        }
