"""Generators, discriminators and the presets that name them.

A preset (`tfgans.models.get(name)`) is a named recipe: the trainer, the networks' builder
and the paper's settings. Calling it builds the networks:
`build(image_shape, latent_dim, num_classes=None, **kwargs)` returns
`(generator, discriminator)`; call it inside `strategy.scope()`.

Example:
>>> import tfgans.models
>>> build = tfgans.models.get("dcgan")
>>> generator, discriminator = build((28, 28, 1), latent_dim=64, width=32)
"""

from tfgans.models.adapters import OneHotChannelsDiscriminator, OneHotConcatGenerator
from tfgans.models.common import START_SIZES
from tfgans.models.dcgan import DCGANDiscriminator, DCGANGenerator, build_dcgan
from tfgans.models.mlp import MLPDiscriminator, MLPGenerator, build_mlp
from tfgans.models.presets import PRESETS, Preset
from tfgans.settings import Key

_CONDITIONING = Key(None, "str", nullable=True, choices=("concat", "projection", "acgan"),
                    doc="class conditioning of the discriminator (needs data.labels); null: "
                    "concat for a conditional model")
_SPECTRAL_NORM = Key(False, "bool", doc="spectral norm in the discriminator")


def _resolve(values, num_classes, multi_replica):
    """Conditional models concatenate labels unless told otherwise."""
    if num_classes is not None and values.get("conditioning") is None:
        values["conditioning"] = "concat"
    return values


PRESETS.register("dcgan", Preset(
    "dcgan", trainer="gan", build=build_dcgan,
    keys={
        "width": Key(64, "int", low=1, doc="base number of filters"),
        "spectral_norm": _SPECTRAL_NORM,
        "conditioning": _CONDITIONING,
        "synchronized_bn": Key(True, "bool",
                               doc="batch norm with the statistics of the global batch, so "
                               "results do not depend on the number of replicas; false: "
                               "each replica's own (Keras' BatchNormalization default)"),
    },
    image_sizes=tuple(START_SIZES),
    resolve_model=_resolve,
    doc="DCGAN (Radford et al. 2016), WGAN-GP by default",
    reference="https://arxiv.org/abs/1511.06434",
))
PRESETS.register("mlp", Preset(
    "mlp", trainer="gan", build=build_mlp,
    keys={
        "width": Key(64, "int", low=1, doc="hidden units: two layers of 2 * width"),
        "spectral_norm": _SPECTRAL_NORM,
        "conditioning": _CONDITIONING,
    },
    to_kwargs=lambda v: {**{k: x for k, x in v.items() if k != "width"},
                         "hidden_units": (2 * v["width"],) * 2},
    resolve_model=_resolve,
    doc="fully connected generator and discriminator (Goodfellow et al. 2014)",
    reference="https://arxiv.org/abs/1406.2661",
))


def get(name):
    """Returns the preset registered as `name` ("dcgan", "mlp"); calling it builds the
    networks.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    return PRESETS.get(name)


__all__ = [
    "PRESETS",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "OneHotChannelsDiscriminator",
    "OneHotConcatGenerator",
    "Preset",
    "build_dcgan",
    "build_mlp",
    "get",
]
