"""Generators and discriminators, and a registry of builders by name.

A builder is `build(image_shape, latent_dim, num_classes=None, **kwargs)` and returns
`(generator, discriminator)`; call it inside `strategy.scope()`.

Example:
>>> import tfgans.models
>>> build = tfgans.models.get("dcgan")
>>> generator, discriminator = build((28, 28, 1), latent_dim=64, width=32)
"""

from tfgans.models.dcgan import DCGANDiscriminator, DCGANGenerator, build_dcgan
from tfgans.models.mlp import MLPDiscriminator, MLPGenerator, build_mlp
from tfgans.registry import Registry

MODELS = Registry("model")
MODELS.register("dcgan", build_dcgan)
MODELS.register("mlp", build_mlp)


def get(name):
    """Returns the model builder registered as `name` ("dcgan", "mlp").

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    return MODELS.get(name)


__all__ = [
    "MODELS",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "build_dcgan",
    "build_mlp",
    "get",
]
