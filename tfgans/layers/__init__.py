"""Building blocks shared by tfgans models (backend-neutral Keras layers)."""

from tfgans.layers.discriminator_head import CONDITIONINGS, DiscriminatorHead
from tfgans.layers.spectral import maybe_spectral_norm

__all__ = ["CONDITIONINGS", "DiscriminatorHead", "maybe_spectral_norm"]
