"""InfoGAN's networks for 28x28 images: the generator of noise + codes, and the
discriminator whose body is shared by the recogniser head Q.

The architecture is the paper's for MNIST (Chen et al. 2016, appendix C.1, table 1), with
its widths as multiples of `width` (the paper's is `width=64`):

- G: input (noise, codes) concatenated -> FC 16w ReLU BN -> FC 7x7x2w ReLU BN ->
  4x4 up-conv w, stride 2, ReLU BN -> 4x4 up-conv C, stride 2, tanh (the paper's sigmoid,
  mapped to tfgans' [-1, 1]);
- D: 4x4 conv w, stride 2, leaky ReLU -> 4x4 conv 2w, stride 2, BN, leaky ReLU ->
  FC 16w, BN, leaky ReLU -> FC 1 (the logit); Q on the same FC features:
  FC 2w, BN, leaky ReLU -> FC (the codes' parameters).

Reference: [Chen et al., 2016](https://arxiv.org/abs/1606.03657).
"""

import keras
from keras import ops

from tfgans.models import common
from tfgans.models.adapters import ConcatInputsGenerator
from tfgans.models.mlp import MLPGenerator
from tfgans.settings import Key

#: The code keys of a config's `model` section; the `infogan` preset and the InfoGAN
#: trainer both take them (the networks' sizes and the trainer's code layout).
CODE_KEYS = {
    "categorical_codes": Key(1, "int", low=0, doc="categorical codes (one-hot each)"),
    "categories": Key(10, "int", low=2, doc="values of each categorical code"),
    "continuous_codes": Key(2, "int", low=0, doc="continuous codes, uniform in [-1, 1]"),
}


def code_size(categorical_codes, categories, continuous_codes):
    """The size of the codes' part of the generator input (one-hot categorical codes, then
    the continuous ones)."""
    return categorical_codes * categories + continuous_codes


def q_size(categorical_codes, categories, continuous_codes):
    """The size of Q's output: the categorical codes' logits, then the continuous codes'
    means (the paper's MNIST model fixes their standard deviation to 1)."""
    return categorical_codes * categories + continuous_codes


def _batch_norm(dtype):
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, dtype=dtype)


@keras.saving.register_keras_serializable(package="tfgans")
class InfoGANGenerator(keras.Model):
    """InfoGAN's MNIST generator: `[noise, codes]` -> images in [-1, 1].

    Args:
        image_shape: (28, 28, channels).
        latent_dim: the noise size (the paper's 62).
        code_dim: the codes' size (one-hot categorical codes, then continuous codes; the
            paper's 10 + 2).
        width: base filters (the paper's 64).
        **kwargs: base model arguments.

    Call arguments:
        inputs: `[noise [B, latent_dim], codes [B, code_dim]]`.

    Example:
    >>> g = InfoGANGenerator((28, 28, 1), latent_dim=8, code_dim=12, width=4)
    >>> tuple(g([keras.ops.zeros((2, 8)), keras.ops.zeros((2, 12))]).shape)
    (2, 28, 28, 1)
    """

    def __init__(self, image_shape, latent_dim=62, code_dim=12, width=64, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        if self.image_shape[0] != 28:
            raise ValueError(
                "InfoGAN's MNIST networks take 28x28 images. "
                f"Received: image_shape={self.image_shape}"
            )
        self.latent_dim = common.check_positive_int("latent_dim", latent_dim)
        self.code_dim = int(code_dim)
        self.width = common.check_positive_int("width", width)
        dtype = self.dtype_policy
        w = self.width
        self.fc1 = keras.layers.Dense(16 * w, dtype=dtype, name="fc1")
        self.bn1 = _batch_norm(dtype)
        self.fc2 = keras.layers.Dense(7 * 7 * 2 * w, dtype=dtype, name="fc2")
        self.bn2 = _batch_norm(dtype)
        self.reshape = keras.layers.Reshape((7, 7, 2 * w), dtype=dtype)
        self.up1 = keras.layers.Conv2DTranspose(w, 4, strides=2, padding="same", dtype=dtype)
        self.bn3 = _batch_norm(dtype)
        self.to_image = keras.layers.Conv2DTranspose(
            self.image_shape[-1], 4, strides=2, padding="same", dtype=dtype, name="to_image")
        self.tanh = keras.layers.Activation("tanh", dtype="float32", name="tanh")

    def call(self, inputs, training=None):
        noise, codes = inputs
        x = ops.concatenate([ops.cast(noise, self.compute_dtype),
                             ops.cast(codes, self.compute_dtype)], axis=-1)
        x = ops.relu(self.bn1(self.fc1(x), training=training))
        x = ops.relu(self.bn2(self.fc2(x), training=training))
        x = ops.relu(self.bn3(self.up1(self.reshape(x)), training=training))
        return self.tanh(self.to_image(x))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "latent_dim": self.latent_dim, "code_dim": self.code_dim, "width": self.width}


@keras.saving.register_keras_serializable(package="tfgans")
class InfoGANDiscriminator(keras.Model):
    """InfoGAN's MNIST discriminator and recogniser Q sharing one body.

    Args:
        image_shape: (28, 28, channels).
        q_dim: the size of Q's output (see `q_size`).
        width: base filters (the paper's 64).
        **kwargs: base model arguments.

    Call arguments:
        inputs: images [B, 28, 28, C].

    Returns:
        `[logits [B, 1], q [B, q_dim]]` in float32 (higher logits mean "real").
    """

    def __init__(self, image_shape, q_dim=12, width=64, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = common.check_image_shape(image_shape)
        self.q_dim = common.check_positive_int("q_dim", q_dim)
        self.width = common.check_positive_int("width", width)
        dtype = self.dtype_policy
        w = self.width
        self.conv1 = keras.layers.Conv2D(w, 4, strides=2, padding="same", dtype=dtype)
        self.conv2 = keras.layers.Conv2D(2 * w, 4, strides=2, padding="same", dtype=dtype)
        self.bn2 = _batch_norm(dtype)
        self.flatten = keras.layers.Flatten(dtype=dtype)
        self.fc = keras.layers.Dense(16 * w, dtype=dtype, name="fc")
        self.bn_fc = _batch_norm(dtype)
        self.logit = keras.layers.Dense(1, dtype="float32", name="logit")
        self.q_fc = keras.layers.Dense(2 * w, dtype=dtype, name="q_fc")
        self.q_bn = _batch_norm(dtype)
        self.q_out = keras.layers.Dense(self.q_dim, dtype="float32", name="q_out")

    def call(self, inputs, training=None):
        common.check_shape(self, inputs, "images", self.image_shape)
        x = ops.leaky_relu(self.conv1(inputs), negative_slope=0.1)
        x = ops.leaky_relu(self.bn2(self.conv2(x), training=training), negative_slope=0.1)
        x = ops.leaky_relu(self.bn_fc(self.fc(self.flatten(x)), training=training),
                           negative_slope=0.1)
        q = ops.leaky_relu(self.q_bn(self.q_fc(x), training=training), negative_slope=0.1)
        return [self.logit(x), self.q_out(q)]

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "q_dim": self.q_dim,
                "width": self.width}


def build_infogan(image_shape, latent_dim, num_classes=None, *, width=64, categorical_codes=1,
                  categories=10, continuous_codes=2):
    """Builds InfoGAN's generator and discriminator (with Q) for 28x28 images.

    Args:
        image_shape: (28, 28, channels).
        latent_dim: the noise size (the paper's 62).
        num_classes: must be None: InfoGAN learns its categories without labels.
        width: base filters (the paper's 64).
        categorical_codes, categories, continuous_codes: the codes (the paper's MNIST
            model: one categorical code of 10 values and 2 continuous codes).

    Returns:
        `(generator, discriminator)`.

    Example:
    >>> g, d = build_infogan((28, 28, 1), latent_dim=8, width=4)
    >>> [tuple(t.shape) for t in d(g([keras.ops.zeros((2, 8)), keras.ops.zeros((2, 12))]))]
    [(2, 1), (2, 12)]
    """
    if num_classes is not None:
        raise ValueError(
            "InfoGAN is unconditional: it learns categorical codes without labels (set "
            f"data.labels: false). Received: num_classes={num_classes!r}")
    sizes = (categorical_codes, categories, continuous_codes)
    if code_size(*sizes) < 1:
        raise ValueError(
            "InfoGAN needs at least one code: set categorical_codes or continuous_codes > 0. "
            f"Received: categorical_codes={categorical_codes}, "
            f"continuous_codes={continuous_codes}")
    generator = InfoGANGenerator(image_shape, latent_dim, code_size(*sizes), width=width)
    discriminator = InfoGANDiscriminator(image_shape, q_size(*sizes), width=width)
    return generator, discriminator



@keras.saving.register_keras_serializable(package="tfgans")
class InfoGANMLPDiscriminator(keras.Model):
    """A fully connected discriminator with a Q head: flattened images -> leaky ReLU
    (0.2) dense layers -> `[logit [B, 1], q [B, q_dim]]`, both heads on the last hidden
    layer (`MLPDiscriminator`'s body; its AC-GAN head would make `tfgans.GAN` train an
    auxiliary classifier, so Q is its own head here).

    Args:
        q_dim: the size of Q's output (see `q_size`).
        hidden_units: units of each hidden layer.
        **kwargs: base model arguments.
    """

    def __init__(self, q_dim=10, hidden_units=(512,), **kwargs):
        super().__init__(**kwargs)
        self.q_dim = common.check_positive_int("q_dim", q_dim)
        self.hidden_units = common.check_int_tuple("hidden_units", hidden_units)
        dtype = self.dtype_policy
        self.flatten = keras.layers.Flatten(dtype=dtype)
        self.hidden = [keras.layers.Dense(u, dtype=dtype) for u in self.hidden_units]
        self.logit = keras.layers.Dense(1, dtype="float32", name="logit")
        self.q_out = keras.layers.Dense(self.q_dim, dtype="float32", name="q_out")

    def call(self, inputs, training=None):
        x = self.flatten(inputs)
        for layer in self.hidden:
            x = ops.leaky_relu(layer(x), negative_slope=0.2)
        return [self.logit(x), self.q_out(x)]

    def get_config(self):
        return {**super().get_config(), "q_dim": self.q_dim, "hidden_units": self.hidden_units}


def build_infogan_mlp(image_shape, latent_dim, num_classes=None, *, hidden_units=(512,),
                      categorical_codes=1, categories=10, continuous_codes=0):
    """A small fully connected InfoGAN pair for quick runs (the issue 16 test,
    `benchmarks/infogan_nmi.py --quick`): `MLPGenerator` (ReLU, tanh output) on
    `[noise, codes]` concatenated (`ConcatInputsGenerator`), and `InfoGANMLPDiscriminator`.

    Args:
        image_shape: the shape of one image (any size: the networks are dense).
        latent_dim: the noise size.
        num_classes: must be None (InfoGAN learns its categories without labels).
        hidden_units: hidden layer sizes of both networks.
        categorical_codes, categories, continuous_codes: the codes.

    Returns:
        `(generator, discriminator)`.

    Example:
    >>> g, d = build_infogan_mlp((28, 28, 1), latent_dim=8, hidden_units=(16,))
    >>> [tuple(t.shape) for t in d(g([keras.ops.zeros((2, 8)), keras.ops.zeros((2, 10))]))]
    [(2, 1), (2, 10)]
    """
    if num_classes is not None:
        raise ValueError(
            "InfoGAN is unconditional: it learns categorical codes without labels (set "
            f"data.labels: false). Received: num_classes={num_classes!r}")
    sizes = (categorical_codes, categories, continuous_codes)
    generator = ConcatInputsGenerator(MLPGenerator(
        image_shape, latent_dim + code_size(*sizes), hidden_units=hidden_units))
    return generator, InfoGANMLPDiscriminator(q_size(*sizes), hidden_units)
