"""The semi-supervised GAN's networks: a DCGAN generator and a K-class discriminator.

The discriminator is a classifier: images -> K class logits `l_1..l_K`. Its real / fake
decision is the (K+1)-th class with logit 0 (Salimans et al. 2016, section 5): `D(x) =
Z / (Z + 1)`, `Z = sum_k exp(l_k)` (`tfgans.losses.ssgan_real_logit`). It follows the
paper's CIFAR-10 discriminator, scaled down: dropout on the input and after every
convolution, stride-2 4x4 convolutions with leaky ReLU (no batch normalisation, so each
example's output depends on itself alone), a 3x3 convolution, global average pooling
(the features the generator matches) and a dense layer to the K logits.

`architecture="mlp"` builds the paper's MNIST networks instead (its code,
openai/improved-gan `mnist_feature_matching`): a weight-normalised ReLU MLP discriminator
1000-500-250-250-250 with Gaussian noise on its input (std 0.3 of the [0, 1] pixel range,
0.6 here for [-1, 1]) and after every hidden layer (0.5), and a generator of two 500-unit
softplus layers with batch normalisation and a weight-normalised output layer.

Reference: [Salimans et al., 2016](https://arxiv.org/abs/1606.03498),
[Odena, 2016](https://arxiv.org/abs/1606.01583).
"""

import math

import keras
from keras import ops

from tfgans.layers.normalization import WeightNormalization
from tfgans.models import common
from tfgans.models.dcgan import DCGANGenerator

#: The networks `build_ssgan` makes: the paper's CIFAR-10 convolutions (scaled down) or its
#: MNIST MLPs.
ARCHITECTURES = ("conv", "mlp")


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


@keras.saving.register_keras_serializable(package="tfgans")
class SSGANMLPDiscriminator(keras.Model):
    """The paper's MNIST discriminator: images -> class logits [B, K] (float32).

    Flattened images with Gaussian noise (`input_noise`), then weight-normalised ReLU
    dense layers (`hidden_units`), each followed by Gaussian noise (`noise`), then a
    weight-normalised dense layer to the K logits. The noise is on in training only.

    Args:
        image_shape: (height, width, channels).
        num_classes: K.
        hidden_units: the hidden layers' units (the paper's 1000, 500, 250, 250, 250).
        input_noise: std of the Gaussian noise on the input in [-1, 1] (the paper's 0.3 on
            [0, 1] pixels is 0.6 here).
        noise: std of the Gaussian noise after each hidden layer (the paper's 0.5).
        train_hidden_scale: whether the hidden layers' weight-norm scales `g` train. The
            paper's code (`nn.DenseLayer`, `train_scale=False`) keeps them at the values
            the data-dependent initialisation sets, so the noise keeps its size relative
            to the activations; the output layer's scale always trains.
        kernel_stddev: std of the normal initial kernels (directions), the paper's 0.1.

    `initialize_from_data(images)` is the paper's data-dependent initialisation (its code
    runs it once on 500 training images before the first step): layer by layer, with the
    noise on, each weight-normalised layer's scale and bias are set so that its
    pre-activations have mean 0 and variance 1 on `images`. The semi-supervised trainer
    calls it on its first batch.

    Call arguments:
        inputs: images float [B, *image_shape] in [-1, 1].
        training: the noise on or off.

    Example:
    >>> d = SSGANMLPDiscriminator((28, 28, 1), num_classes=10, hidden_units=(16, 8))
    >>> tuple(d(keras.ops.zeros((2, 28, 28, 1))).shape)
    (2, 10)
    """

    def __init__(self, image_shape, num_classes=10, hidden_units=(1000, 500, 250, 250, 250),
                 input_noise=0.6, noise=0.5, train_hidden_scale=False, kernel_stddev=0.1,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_int_tuple("image_shape", image_shape)
        self.num_classes = common.check_positive_int("num_classes", num_classes)
        if self.num_classes < 2:
            raise ValueError(f"`num_classes` must be >= 2. Received: num_classes={num_classes}")
        self.hidden_units = common.check_int_tuple("hidden_units", hidden_units)
        self.input_noise = common.check_non_negative("input_noise", input_noise)
        self.noise = common.check_non_negative("noise", noise)
        self.train_hidden_scale = common.check_bool("train_hidden_scale", train_hidden_scale)
        self.kernel_stddev = common.check_non_negative("kernel_stddev", kernel_stddev)
        if not self.kernel_stddev:
            raise ValueError("`kernel_stddev` must be > 0. Received: kernel_stddev=0")
        dtype = self.dtype_policy

        def dense(units, dtype):
            return keras.layers.Dense(
                units, kernel_initializer=keras.initializers.RandomNormal(
                    stddev=self.kernel_stddev), dtype=dtype)

        self.flatten = keras.layers.Flatten(dtype=dtype)
        self.input_noise_layer = keras.layers.GaussianNoise(self.input_noise, dtype=dtype)
        # The paper's `nn.DenseLayer`: unit-length columns times a scale that starts at 1.
        self.hidden = [WeightNormalization(dense(units, dtype), dtype=dtype,
                                           train_scale=self.train_hidden_scale,
                                           scale_initializer="ones", name=f"wn_dense_{i}")
                       for i, units in enumerate(self.hidden_units)]
        self.noises = [keras.layers.GaussianNoise(self.noise, dtype=dtype)
                       for _ in self.hidden_units]
        self.classifier = WeightNormalization(dense(self.num_classes, "float32"),
                                              scale_initializer="ones", dtype="float32",
                                              name="class_logits")

    def initialize_from_data(self, images):
        """The paper's data-dependent initialisation on `images` [B, *image_shape] in
        [-1, 1] (noise on, as in its code): each weight-normalised layer in turn gets the
        scale and bias that give its pre-activations mean 0 and variance 1 on them."""
        images = ops.convert_to_tensor(images, "float32")
        common.check_shape(self, images, "images", self.image_shape)
        if not self.built:
            self(images[:1])
        x = self.input_noise_layer(self.flatten(images), training=True)
        for dense, noise in zip(self.hidden, self.noises):
            x = noise(ops.relu(dense.initialize_from_data(x)), training=True)
        self.classifier.initialize_from_data(x)

    def call(self, inputs, training=None):
        return self.call_with_features(inputs, training=training)[0]

    def call_with_features(self, inputs, training=None):
        """`(class logits, [each hidden layer's activation])`: the last entry (the last
        hidden layer, before its noise) is what the generator's feature matching matches,
        as in the paper's code."""
        common.check_shape(self, inputs, "images", self.image_shape)
        x = self.input_noise_layer(self.flatten(inputs), training=training)
        features = []
        for dense, noise in zip(self.hidden, self.noises):
            x = ops.relu(dense(x))
            features.append(x)
            x = noise(x, training=training)
        return self.classifier(x), features

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "num_classes": self.num_classes, "hidden_units": self.hidden_units,
                "input_noise": self.input_noise, "noise": self.noise,
                "train_hidden_scale": self.train_hidden_scale,
                "kernel_stddev": self.kernel_stddev}


@keras.saving.register_keras_serializable(package="tfgans")
class SSGANMLPGenerator(keras.Model):
    """The paper's MNIST generator: noise -> images in [-1, 1].

    Dense layers without bias, each with batch normalisation and softplus
    (`hidden_units`, the paper's 500, 500), then a weight-normalised dense layer with tanh
    (the paper's sigmoid for [0, 1] pixels) reshaped to `image_shape`.

    Args:
        image_shape: (height, width, channels).
        latent_dim: the noise size.
        hidden_units: the hidden layers' units.
        synchronized_bn: batch statistics of the global batch under several replicas.

    Example:
    >>> g = SSGANMLPGenerator((28, 28, 1), latent_dim=8, hidden_units=(16,))
    >>> tuple(g(keras.ops.zeros((2, 8))).shape)
    (2, 28, 28, 1)
    """

    def __init__(self, image_shape, latent_dim, hidden_units=(500, 500), synchronized_bn=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_int_tuple("image_shape", image_shape)
        self.latent_dim = common.check_positive_int("latent_dim", latent_dim)
        self.hidden_units = common.check_int_tuple("hidden_units", hidden_units)
        self.synchronized_bn = common.check_bool("synchronized_bn", synchronized_bn)
        dtype = self.dtype_policy
        self.dense = [keras.layers.Dense(units, use_bias=False, dtype=dtype)
                      for units in self.hidden_units]
        self.norms = [keras.layers.BatchNormalization(synchronized=self.synchronized_bn,
                                                      dtype=dtype)
                      for _ in self.hidden_units]
        self.out = WeightNormalization(
            keras.layers.Dense(math.prod(self.image_shape), dtype="float32"), dtype="float32",
            name="output")
        self.reshape = keras.layers.Reshape(self.image_shape, dtype="float32")

    def call(self, inputs, training=None):
        x = inputs
        for dense, norm in zip(self.dense, self.norms):
            x = ops.softplus(norm(dense(x), training=training))
        return self.reshape(ops.tanh(self.out(x)))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "latent_dim": self.latent_dim, "hidden_units": self.hidden_units,
                "synchronized_bn": self.synchronized_bn}


def build_ssgan(image_shape, latent_dim, num_classes=None, *, architecture="conv", width=64,
                dropout=0.5, input_dropout=0.2, input_noise=0.6, noise=0.5):
    """Builds the semi-supervised GAN's networks.

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: the noise size.
        num_classes: K, the classes of the labelled data (required).
        architecture: "conv" (the paper's CIFAR-10 networks, scaled) or "mlp" (its MNIST
            networks).
        width: "conv": the discriminator's first filters and the DCGAN generator's
            `width`; "mlp": the scale of the layers, the discriminator's hidden units
            `(32, 16, 8, 8, 8) * width` and the generator's `(16, 16) * width` (32: 1024-
            512-256-256-256 and 512-512, the paper's 1000-500-250-250-250 and 500-500).
        dropout, input_dropout: the "conv" discriminator's dropout rates.
        input_noise, noise: the "mlp" discriminator's Gaussian noise stds.

    Returns:
        `(generator, discriminator)`: an unconditional `DCGANGenerator` and an
        `SSGANDiscriminator` with K outputs ("conv"), or an `SSGANMLPGenerator` and an
        `SSGANMLPDiscriminator` ("mlp"); the generators' batch norm uses the global
        batch's statistics under several replicas.

    Example:
    >>> g, d = build_ssgan((28, 28, 1), latent_dim=8, num_classes=10, width=4)
    >>> tuple(d(g(keras.ops.zeros((2, 8)))).shape)
    (2, 10)
    """
    if num_classes is None:
        raise ValueError(
            "The semi-supervised GAN's discriminator classifies: it needs the number of "
            "classes (data.labels: true gives the dataset's). Received: num_classes=None")
    if architecture not in ARCHITECTURES:
        raise ValueError(f"`architecture` must be one of {ARCHITECTURES}. Received: "
                         f"architecture={architecture!r}")
    width = common.check_positive_int("width", width)
    if architecture == "mlp":
        generator = SSGANMLPGenerator(image_shape, latent_dim, hidden_units=(16 * width,) * 2)
        discriminator = SSGANMLPDiscriminator(
            image_shape, num_classes, hidden_units=tuple(u * width for u in (32, 16, 8, 8, 8)),
            input_noise=input_noise, noise=noise)
        return generator, discriminator
    generator = DCGANGenerator(image_shape, latent_dim, width=width, synchronized_bn=True)
    discriminator = SSGANDiscriminator(image_shape, num_classes, width=width, dropout=dropout,
                                       input_dropout=input_dropout)
    return generator, discriminator
