"""Optional spectral normalization of a layer's kernel."""

import keras


def maybe_spectral_norm(layer, enabled, power_iterations=1):
    """Returns `layer` wrapped in `keras.layers.SpectralNormalization` if `enabled`.

    The wrapper takes the wrapped layer's dtype policy, so mixed precision is unchanged.

    Args:
        layer: a layer with a `kernel` (`Dense`, `Conv2D`, ...).
        enabled: whether to wrap it.
        power_iterations: power iterations per training step.

    Returns:
        The wrapper, or `layer` itself when `enabled` is false.

    Example:
    >>> maybe_spectral_norm(keras.layers.Dense(4), True).__class__.__name__
    'SpectralNormalization'

    Reference:
        [Spectral Normalization for GANs](https://arxiv.org/abs/1802.05957).
    """
    if not enabled:
        return layer
    return keras.layers.SpectralNormalization(
        layer,
        power_iterations=power_iterations,
        dtype=layer.dtype_policy,
        name=f"sn_{layer.name}",
    )
