"""Batch normalization whose scale and offset depend on a condition (class or vector)."""

import keras
from keras import ops

from tfgans.layers._checks import check_positive
from tfgans.layers.spectral import maybe_spectral_norm


@keras.saving.register_keras_serializable(package="tfgans")
class ConditionalBatchNormalization(keras.layers.Layer):
    """Batch normalization with a per-example scale and offset computed from a condition.

        y = gamma(c) * (x - mean) / sqrt(var + epsilon) + beta(c)

    `mean` and `var` are the batch moments per channel (moving averages at inference),
    from an inner `keras.layers.BatchNormalization(center=False, scale=False)`; the
    layer has no affine parameters of its own. The condition `c` is either:

    - class ids [batch] when `num_classes` is set (SNGAN, de Vries et al., 2017):
      `gamma(y)` and `beta(y)` are rows of two embeddings initialised to 1 and 0, so
      the layer starts as plain batch normalization;
    - a float vector [batch, d] otherwise (BigGAN's shared class embedding concatenated
      with a chunk of the noise): `gamma(c) = 1 + c W_gamma` and `beta(c) = c W_beta`,
      two bias-free linear maps.

    Args:
        num_classes: number of classes for class-id conditions, or None for vectors.
        momentum: momentum of the moving mean and variance.
        epsilon: added to the variance.
        synchronized: compute the batch moments across replicas
            (`keras.layers.BatchNormalization(synchronized=True)`; TensorFlow only).
        spectral_norm: spectrally normalize the two linear maps of a vector condition
            (BigGAN); not available with `num_classes`.
        kernel_regularizer: regularizer of the two linear maps' kernels (vector
            conditions only), e.g. BigGAN's orthogonal regularization.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float [batch, ..., channels].
        condition: int class ids [batch], or float [batch, d].
        training: use the batch moments and update the moving ones (True), or use the
            moving ones (False).

    Returns:
        float, the shape of `inputs`.

    Example:
    >>> import numpy as np
    >>> cbn = ConditionalBatchNormalization(num_classes=10)
    >>> x = np.random.rand(4, 8, 8, 3).astype("float32")
    >>> tuple(cbn(x, np.array([0, 1, 2, 3]), training=True).shape)
    (4, 8, 8, 3)

    Reference:
        [Modulating early visual processing by language](https://arxiv.org/abs/1707.00683)
        (de Vries et al., 2017), [cGANs with Projection Discriminator](
        https://arxiv.org/abs/1802.05637) (Miyato & Koyama, 2018), [BigGAN](
        https://arxiv.org/abs/1809.11096) (Brock et al., 2019).
    """

    def __init__(
        self,
        num_classes=None,
        momentum=0.9,
        epsilon=1e-5,
        synchronized=False,
        spectral_norm=False,
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive("num_classes", num_classes, integer=True, allow_none=True)
        if num_classes is not None and (spectral_norm or kernel_regularizer is not None):
            raise ValueError(
                "`spectral_norm` and `kernel_regularizer` apply to the linear maps of a "
                "vector condition; class ids use plain embeddings. Received: "
                f"num_classes={num_classes!r}, spectral_norm={spectral_norm!r}, "
                f"kernel_regularizer={kernel_regularizer!r}"
            )
        self.num_classes = num_classes
        self.momentum = momentum
        self.epsilon = epsilon
        self.synchronized = synchronized
        self.spectral_norm = spectral_norm
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.batch_norm = keras.layers.BatchNormalization(
            momentum=momentum,
            epsilon=epsilon,
            center=False,
            scale=False,
            synchronized=synchronized,
            dtype=self.dtype_policy,
            name="batch_norm",
        )

    def build(self, inputs_shape, condition_shape):
        channels = inputs_shape[-1]
        self.batch_norm.build(inputs_shape)
        if self.num_classes is not None:
            self.gamma_embedding = keras.layers.Embedding(
                self.num_classes, channels, embeddings_initializer="ones",
                dtype=self.dtype_policy, name="gamma_embedding",
            )
            self.beta_embedding = keras.layers.Embedding(
                self.num_classes, channels, embeddings_initializer="zeros",
                dtype=self.dtype_policy, name="beta_embedding",
            )
            self.gamma_embedding.build(condition_shape)
            self.beta_embedding.build(condition_shape)
        else:

            def dense(name):
                layer = keras.layers.Dense(
                    channels, use_bias=False, kernel_regularizer=self.kernel_regularizer,
                    dtype=self.dtype_policy, name=name,
                )
                return maybe_spectral_norm(layer, self.spectral_norm)

            self.gamma_dense = dense("gamma_dense")
            self.beta_dense = dense("beta_dense")
            self.gamma_dense.build(condition_shape)
            self.beta_dense.build(condition_shape)

    def scale_and_offset(self, condition, training=None):
        """Returns `(gamma, beta)` [batch, channels] for `condition`."""
        if self.num_classes is not None:
            labels = ops.reshape(ops.cast(condition, "int32"), (-1,))
            return self.gamma_embedding(labels), self.beta_embedding(labels)
        gamma = 1.0 + self.gamma_dense(condition, training=training)
        return gamma, self.beta_dense(condition, training=training)

    def call(self, inputs, condition, training=None):
        x = self.batch_norm(inputs, training=training)
        gamma, beta = self.scale_and_offset(condition, training=training)
        shape = (-1,) + (1,) * (len(inputs.shape) - 2) + (inputs.shape[-1],)
        gamma = ops.reshape(ops.cast(gamma, x.dtype), shape)
        beta = ops.reshape(ops.cast(beta, x.dtype), shape)
        return x * gamma + beta

    def compute_output_shape(self, inputs_shape, condition_shape):
        return inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "synchronized": self.synchronized,
            "spectral_norm": self.spectral_norm,
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }
