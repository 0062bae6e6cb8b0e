"""Orthogonal regularization of kernels: the full one (Brock et al., 2017) and BigGAN's
off-diagonal one (Brock et al., 2019)."""

import keras
from keras import ops

from tfgans.layers._checks import check_non_negative


def _gram(kernel):
    """`W^T W` [out, out] for the kernel reshaped to W [fan_in, out], in float32."""
    w = ops.cast(ops.reshape(kernel, (-1, kernel.shape[-1])), "float32")
    return ops.matmul(ops.transpose(w), w)


def orthonormal_regularization(kernel, beta=1e-4):
    """`beta * ||W^T W - I||_F^2`: pulls the kernel's columns to an orthonormal set.

    `W` is `kernel` reshaped to [fan_in, out] (the last axis is the output).

    Args:
        kernel: a kernel tensor or variable, [..., out].
        beta: the regularization weight.

    Returns:
        A float32 scalar.

    Example:
    >>> import numpy as np
    >>> float(orthonormal_regularization(np.eye(3, dtype="float32"), beta=1.0))
    0.0

    Reference:
        [Neural Photo Editing with Introspective Adversarial Networks](
        https://arxiv.org/abs/1609.07093) (Brock et al., 2017), section 3.
    """
    beta = check_non_negative("beta", beta)
    gram = _gram(kernel)
    return beta * ops.sum(ops.square(gram - ops.eye(gram.shape[0], dtype=gram.dtype)))


def off_diagonal_orthogonal_regularization(kernel, beta=1e-4):
    """`beta * ||W^T W * (1 - I)||_F^2`: BigGAN's orthogonal regularization.

    Only the inner products between different columns of `W` ([fan_in, out], `kernel`
    reshaped) are penalised, not their norms: the columns are pulled towards
    orthogonality without constraining their length, which makes the generator amenable
    to the truncation trick.

    Args:
        kernel: a kernel tensor or variable, [..., out].
        beta: the regularization weight (1e-4 in BigGAN).

    Returns:
        A float32 scalar.

    Example:
    >>> import numpy as np
    >>> float(off_diagonal_orthogonal_regularization(2 * np.eye(3, dtype="float32")))
    0.0

    Reference:
        [Large Scale GAN Training for High Fidelity Natural Image Synthesis](
        https://arxiv.org/abs/1809.11096) (Brock et al., 2019), section 3.1.
    """
    beta = check_non_negative("beta", beta)
    gram = _gram(kernel)
    off_diagonal = 1.0 - ops.eye(gram.shape[0], dtype=gram.dtype)
    return beta * ops.sum(ops.square(gram * off_diagonal))


class _OrthogonalRegularizer(keras.regularizers.Regularizer):
    _penalty = None

    def __init__(self, beta=1e-4):
        self.beta = check_non_negative("beta", beta)

    def __call__(self, x):
        return self._penalty(x, self.beta)

    def get_config(self):
        return {"beta": self.beta}


@keras.saving.register_keras_serializable(package="tfgans")
class OrthonormalRegularizer(_OrthogonalRegularizer):
    """`keras.regularizers.Regularizer` for `orthonormal_regularization`.

    Args:
        beta: the regularization weight.

    Example:
    >>> layer = keras.layers.Dense(4, kernel_regularizer=OrthonormalRegularizer(1e-4))
    """

    _penalty = staticmethod(orthonormal_regularization)


@keras.saving.register_keras_serializable(package="tfgans")
class OffDiagonalOrthogonalRegularizer(_OrthogonalRegularizer):
    """`keras.regularizers.Regularizer` for `off_diagonal_orthogonal_regularization`
    (BigGAN's orthogonal regularization).

    Args:
        beta: the regularization weight (1e-4 in BigGAN).

    Example:
    >>> layer = keras.layers.Dense(4, kernel_regularizer=OffDiagonalOrthogonalRegularizer())
    """

    _penalty = staticmethod(off_diagonal_orthogonal_regularization)
