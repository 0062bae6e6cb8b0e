"""The semi-supervised GAN's networks: a DCGAN generator and a K-class discriminator.

The discriminator is a classifier: images -> K class logits `l_1..l_K`. Its real / fake
decision is the (K+1)-th class with logit 0 (Salimans et al. 2016, section 5): `D(x) =
Z / (Z + 1)`, `Z = sum_k exp(l_k)` (`tfgans.losses.ssgan_real_logit`). It follows the
paper's CIFAR-10 discriminator, scaled down: dropout on the input and after every
convolution, stride-2 4x4 convolutions with leaky ReLU (no batch normalisation, so each
example's output depends on itself alone), a 3x3 convolution, global average pooling
(the features the generator matches) and a dense layer to the K logits.

Reference: [Salimans et al., 2016](https://arxiv.org/abs/1606.03498),
[Odena, 2016](https://arxiv.org/abs/1606.01583).
"""

import keras
from keras import ops

from tfgans.models import common
from tfgans.models.dcgan import DCGANGenerator


@keras.saving.register_keras_serializable(package="tfgans")
class SSGANDiscriminator(keras.Model):
    """A K-class discriminator: images -> class logits [B, K] (float32).

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        num_classes: K, the classes of the labelled data.
        width: filters of the first convolution (doubling per stride-2 convolution).
        dropout: dropout rate after each convolution (the paper's 0.5).
        input_dropout: dropout rate on the input images (the paper's 0.2).
        **kwargs: base model arguments.

    Call arguments:
        inputs: images float [B, *image_shape] in [-1, 1].
        training: dropout on or off.

    Example:
    >>> d = SSGANDiscriminator((28, 28, 1), num_classes=10, width=8)
    >>> tuple(d(keras.ops.zeros((2, 28, 28, 1))).shape)
    (2, 10)
    """

    def __init__(self, image_shape, num_classes=10, width=64, dropout=0.5, input_dropout=0.2,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.num_classes = common.check_positive_int("num_classes", num_classes)
        if self.num_classes < 2:
            raise ValueError(f"`num_classes` must be >= 2. Received: num_classes={num_classes}")
        self.width = common.check_positive_int("width", width)
        for name, rate in (("dropout", dropout), ("input_dropout", input_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={rate!r}")
        self.dropout = float(dropout)
        self.input_dropout = float(input_dropout)
        dtype = self.dtype_policy
        n = common.num_resamplings(self.image_shape)
        self.input_drop = keras.layers.Dropout(self.input_dropout, dtype=dtype)
        self.convs = [keras.layers.Conv2D(self.width * 2**i, 4, strides=2, padding="same",
                                          dtype=dtype) for i in range(n)]
        self.convs.append(keras.layers.Conv2D(self.width * 2**(n - 1), 3, padding="same",
                                              dtype=dtype))
        self.drops = [keras.layers.Dropout(self.dropout, dtype=dtype) for _ in range(n)]
        self.pool = keras.layers.GlobalAveragePooling2D(dtype=dtype)
        self.classifier = keras.layers.Dense(self.num_classes, dtype="float32",
                                             name="class_logits")

    def call(self, inputs, training=None):
        return self.call_with_features(inputs, training=training)[0]

    def call_with_features(self, inputs, training=None):
        """`(class logits, [each convolution's activation, ..., the pooled features])`:
        the last entry is what the generator's feature matching matches (the paper's
        choice: the layer below the logits)."""
        common.check_shape(self, inputs, "images", self.image_shape)
        x = self.input_drop(inputs, training=training)
        features = []
        for i, conv in enumerate(self.convs):
            x = ops.leaky_relu(conv(x), negative_slope=0.2)
            features.append(x)
            if i < len(self.drops):
                x = self.drops[i](x, training=training)
        pooled = self.pool(x)
        features.append(pooled)
        return self.classifier(pooled), features

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "num_classes": self.num_classes, "width": self.width, "dropout": self.dropout,
                "input_dropout": self.input_dropout}


def build_ssgan(image_shape, latent_dim, num_classes=None, *, width=64, dropout=0.5,
                input_dropout=0.2):
    """Builds the semi-supervised GAN's networks.

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: the noise size.
        num_classes: K, the classes of the labelled data (required).
        width: the discriminator's first filters and the DCGAN generator's `width`.
        dropout, input_dropout: the discriminator's dropout rates.

    Returns:
        `(generator, discriminator)`: an unconditional `DCGANGenerator` and an
        `SSGANDiscriminator` with K outputs.

    Example:
    >>> g, d = build_ssgan((28, 28, 1), latent_dim=8, num_classes=10, width=4)
    >>> tuple(d(g(keras.ops.zeros((2, 8)))).shape)
    (2, 10)
    """
    if num_classes is None:
        raise ValueError(
            "The semi-supervised GAN's discriminator classifies: it needs the number of "
            "classes (data.labels: true gives the dataset's). Received: num_classes=None")
    generator = DCGANGenerator(image_shape, latent_dim, width=width)
    discriminator = SSGANDiscriminator(image_shape, num_classes, width=width, dropout=dropout,
                                       input_dropout=input_dropout)
    return generator, discriminator
