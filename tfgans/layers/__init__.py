"""Building blocks shared by tfgans models (backend-neutral Keras layers)."""

from tfgans.layers.attention import SelfAttention
from tfgans.layers.conditional_batch_norm import ConditionalBatchNormalization
from tfgans.layers.discriminator_head import CONDITIONINGS, DiscriminatorHead
from tfgans.layers.minibatch_discrimination import MinibatchDiscrimination
from tfgans.layers.normalization import (
    NORMALIZATIONS,
    WeightNormalization,
    WithLayerNormalization,
    check_normalization,
    normalize_layer,
)
from tfgans.layers.partial_conv import PartialConv2D
from tfgans.layers.orthogonal import (
    OffDiagonalOrthogonalRegularizer,
    OrthonormalRegularizer,
    off_diagonal_orthogonal_regularization,
    orthonormal_regularization,
)
from tfgans.layers.progan import EqualizedConv2D, EqualizedDense, MinibatchStdDev, PixelNorm
from tfgans.layers.spectral import maybe_spectral_norm
from tfgans.layers.virtual_batch_normalization import VirtualBatchNormalization

__all__ = [
    "CONDITIONINGS",
    "NORMALIZATIONS",
    "ConditionalBatchNormalization",
    "DiscriminatorHead",
    "EqualizedConv2D",
    "EqualizedDense",
    "MinibatchDiscrimination",
    "MinibatchStdDev",
    "OffDiagonalOrthogonalRegularizer",
    "OrthonormalRegularizer",
    "PartialConv2D",
    "PixelNorm",
    "SelfAttention",
    "VirtualBatchNormalization",
    "WeightNormalization",
    "WithLayerNormalization",
    "check_normalization",
    "maybe_spectral_norm",
    "normalize_layer",
    "off_diagonal_orthogonal_regularization",
    "orthonormal_regularization",
]
