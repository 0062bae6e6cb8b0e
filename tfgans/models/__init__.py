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

from tfgans.layers import NORMALIZATIONS
from tfgans.models.adapters import OneHotChannelsDiscriminator, OneHotConcatGenerator
from tfgans.models.biggan import BigGANGenerator, build_biggan
from tfgans.models.common import START_SIZES
from tfgans.models.dcgan import DCGANDiscriminator, DCGANGenerator, build_dcgan
from tfgans.models.mlp import MLPDiscriminator, MLPGenerator, build_mlp
from tfgans.models.presets import PRESETS, Preset
from tfgans.models.resnet import ResNetDiscriminator, ResNetGenerator, build_sngan
from tfgans.models.sagan import build_sagan, default_attention_resolution
from tfgans.settings import Key

_CONDITIONING = Key(None, "str", nullable=True, choices=("concat", "projection", "acgan"),
                    doc="class conditioning of the discriminator (needs data.labels); null: "
                    "concat for a conditional model")
_SPECTRAL_NORM = Key(False, "bool", doc="spectral norm in the discriminator")


def _resolve(values, num_classes, multi_replica, image_size=None):
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
        "minibatch_kernels": Key(0, "int", low=0,
                                 doc="minibatch discrimination's kernels B in the "
                                 "discriminator (Salimans et al. 2016; 100 there); 0: none"),
        "minibatch_kernel_dim": Key(5, "int", low=1,
                                    doc="each minibatch-discrimination kernel's size C"),
        "virtual_batch_norm": Key(False, "bool",
                                  doc="virtual batch norm in the generator instead of batch "
                                  "norm (Salimans et al. 2016)"),
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


# ----------------------------------------------------------- the ResNet family (zoo I)

_RESNET_CONDITIONING = Key(None, "str", nullable=True, choices=("projection", "acgan"),
                           doc="class conditioning of the discriminator (needs data.labels); "
                           "null: projection for a conditional model (Miyato & Koyama 2018)")


def _resnet_keys(generator_spectral_norm, **extra):
    return {
        "width": Key(64, "int", low=1, doc="base channels of G's last and D's first block"),
        "conditioning": _RESNET_CONDITIONING,
        "discriminator_norm": Key(
            "spectral", "str", choices=NORMALIZATIONS,
            doc="normalisation of every discriminator layer: spectral (Miyato et al. 2018), "
            "weight, layer or none"),
        "generator_spectral_norm": Key(generator_spectral_norm, "bool",
                                       doc="spectral norm in the generator too"),
        "synchronized_bn": Key(True, "bool",
                               doc="generator batch norm with the global batch's statistics "
                               "(replica-independent results)"),
        **extra,
    }


_ATTENTION = Key(None, "int", low=1, nullable=True,
                 doc="feature-map size of the self-attention blocks in G and D (14 for 28 px; "
                 "8 or 16 for 32 px); null: half the image size")


def _resolve_resnet(values, num_classes, multi_replica, image_size=None):
    """Conditional ResNets use the projection discriminator unless told otherwise; the
    self-attention blocks sit at half the image size unless told otherwise."""
    if num_classes is not None and values.get("conditioning") is None:
        values["conditioning"] = "projection"
    if "attention_resolution" in values and values["attention_resolution"] is None and (
            image_size is not None):
        values["attention_resolution"] = default_attention_resolution(
            (image_size, image_size, 1))
    return values


#: The papers' optimisers: hinge loss (Lim & Ye 2017), Adam with beta_1 0.
_HINGE = {"loss.name": "hinge", "loss.gradient_penalty": 0.0, "optimizer.beta_1": 0.0}

PRESETS.register("sngan", Preset(
    "sngan", trainer="gan", build=build_sngan,
    keys=_resnet_keys(False),
    # Miyato et al. 2018, table 1 setting C / appendix B.4: hinge, n_dis 5,
    # Adam(2e-4, 0, 0.9) for both networks.
    defaults={**_HINGE, "loss.n_critic": 5, "optimizer.generator_lr": 2e-4,
              "optimizer.discriminator_lr": 2e-4, "optimizer.beta_2": 0.9},
    image_sizes=(28, 32, 64),
    resolve_model=_resolve_resnet,
    doc="SNGAN (Miyato et al. 2018): ResNets, spectral norm in D, hinge, 5 D steps; "
    "conditional: conditional BN in G, projection D",
    reference="https://arxiv.org/abs/1802.05957",
))
PRESETS.register("sagan", Preset(
    "sagan", trainer="gan", build=build_sagan,
    keys=_resnet_keys(True, attention_resolution=_ATTENTION),
    # Zhang et al. 2019, section 5: hinge, TTUR (D 4e-4, G 1e-4), Adam(beta_1 0, beta_2
    # 0.9), one D step per G step, spectral norm in G and D.
    defaults={**_HINGE, "loss.n_critic": 1, "optimizer.generator_lr": 1e-4,
              "optimizer.discriminator_lr": 4e-4, "optimizer.beta_2": 0.9},
    image_sizes=(28, 32, 64),
    resolve_model=_resolve_resnet,
    doc="SAGAN (Zhang et al. 2019): SNGAN's ResNets + self-attention, spectral norm in G "
    "and D, hinge, TTUR",
    reference="https://arxiv.org/abs/1805.08318",
))
PRESETS.register("biggan", Preset(
    "biggan", trainer="gan", build=build_biggan,
    keys=_resnet_keys(
        True, attention_resolution=_ATTENTION,
        embedding_dim=Key(128, "int", low=1, doc="size of G's shared class embedding"),
        orthogonal_regularization=Key(
            1e-4, "float", low=0.0,
            doc="weight of the off-diagonal orthogonal regularisation of G's kernels "
            "(Brock et al. 2019, eq. 3); 0: off"),
    ),
    # Brock et al. 2019, section 4 / appendix C: hinge, Adam(beta_1 0, beta_2 0.999),
    # D 2e-4, G 5e-5, 2 D steps per G step, EMA of G. Scaled to this library's runs: the
    # paper's batch is 256-2048 and its EMA decay 0.9999 (from step 20k); here the batch is
    # the config's and the EMA decay 0.999, so the average follows a run of thousands of
    # steps, not hundreds of thousands.
    defaults={**_HINGE, "loss.n_critic": 2, "optimizer.generator_lr": 5e-5,
              "optimizer.discriminator_lr": 2e-4, "optimizer.beta_2": 0.999,
              "train.ema": 0.999},
    image_sizes=(28, 32, 64),
    resolve_model=_resolve_resnet,
    doc="BigGAN, small (Brock et al. 2019): shared embedding, hierarchical latent, "
    "orthogonal regularisation, hinge, 2 D steps, EMA; truncation at sampling",
    reference="https://arxiv.org/abs/1809.11096",
))


def get(name):
    """Returns the preset registered as `name` ("dcgan", "mlp", "sngan", "sagan",
    "biggan"); calling it builds the networks.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    return PRESETS.get(name)


__all__ = [
    "PRESETS",
    "BigGANGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "OneHotChannelsDiscriminator",
    "OneHotConcatGenerator",
    "Preset",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "build_biggan",
    "build_dcgan",
    "build_mlp",
    "build_sagan",
    "build_sngan",
    "get",
]
