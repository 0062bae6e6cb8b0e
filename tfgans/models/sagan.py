"""SAGAN: SNGAN's ResNets with a self-attention block, spectrally normalized in both.

Reference: [Zhang et al., 2019, Self-Attention Generative Adversarial Networks](
https://arxiv.org/abs/1805.08318).
"""

from tfgans.models import common
from tfgans.models.resnet import ResNetDiscriminator, ResNetGenerator


def default_attention_resolution(image_shape):
    """Half the image size (14, 16 or 32): the largest feature map both networks have."""
    return common.check_image_shape(image_shape)[0] // 2


def build_sagan(
    image_shape,
    latent_dim,
    num_classes=None,
    *,
    width=64,
    attention_resolution=None,
    conditioning=None,
    discriminator_norm="spectral",
    generator_spectral_norm=True,
    synchronized_bn=False,
):
    """Builds a SAGAN generator and discriminator for `image_shape`.

    Both are the ResNets of SNGAN (`ResNetGenerator`, `ResNetDiscriminator`) with a
    `tfgans.layers.SelfAttention` block after the residual block that outputs
    `attention_resolution`, and spectral normalization in the generator as well as in
    the discriminator. Conditional pairs use conditional batch normalization in G and a
    projection discriminator, as in the paper. The paper's training settings (hinge
    loss, Adam with beta_1=0, beta_2=0.9, lr 1e-4 for G and 4e-4 for D, one D step per
    G step) are the trainer's.

    Call it inside `strategy.scope()`.

    Args:
        image_shape: (size, size, channels) with size 28, 32 or 64.
        latent_dim: size of the noise vector.
        num_classes: number of classes for a conditional pair, or None.
        width: base channels of both networks.
        attention_resolution: feature-map size of the attention blocks (see
            `tfgans.models.resnet.attention_resolutions`); None means
            `default_attention_resolution(image_shape)`.
        conditioning: the discriminator's conditioning ("projection" or "acgan").
        discriminator_norm: the discriminator's normalization
            (`tfgans.layers.NORMALIZATIONS`).
        generator_spectral_norm: spectrally normalize the generator.
        synchronized_bn: cross-replica batch normalization in the generator.

    Returns:
        `(generator, discriminator)`.

    Example:
    >>> import keras
    >>> g, d = build_sagan((32, 32, 3), latent_dim=16, num_classes=10, width=8)
    >>> labels = keras.ops.array([0, 9])
    >>> tuple(d([g([keras.random.normal((2, 16)), labels]), labels]).shape)
    (2, 1)

    Reference:
        [Self-Attention GANs](https://arxiv.org/abs/1805.08318).
    """
    if attention_resolution is None:
        attention_resolution = default_attention_resolution(image_shape)
    generator = ResNetGenerator(
        image_shape, latent_dim, width=width, num_classes=num_classes,
        spectral_norm=generator_spectral_norm, attention_resolution=attention_resolution,
        synchronized_bn=synchronized_bn,
    )
    discriminator = ResNetDiscriminator(
        image_shape, width=width, num_classes=num_classes, conditioning=conditioning,
        norm=discriminator_norm, attention_resolution=attention_resolution,
    )
    return generator, discriminator
