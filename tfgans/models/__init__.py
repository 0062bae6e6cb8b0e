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
from tfgans.models.autoencoder import (
    BEGANDiscriminator,
    BEGANGenerator,
    EBGANDiscriminator,
    build_began,
    build_ebgan,
)
from tfgans.models.adapters import (
    ConcatInputsGenerator,
    OneHotChannelsDiscriminator,
    OneHotConcatGenerator,
)
from tfgans.models.biggan import BigGANGenerator, build_biggan
from tfgans.models.common import START_SIZES
from tfgans.models.cyclegan import ResNetTranslator, build_cyclegan
from tfgans.models.dcgan import DCGANDiscriminator, DCGANGenerator, build_dcgan
from tfgans.models.infogan import CODE_KEYS as INFOGAN_CODE_KEYS
from tfgans.models.inpainting import (
    ContextEncoder,
    GlobalLocalDiscriminator,
    build_inpainting,
    compose,
    generator_input,
)
from tfgans.models.infogan import (
    InfoGANDiscriminator,
    InfoGANGenerator,
    InfoGANMLPDiscriminator,
    build_infogan,
    build_infogan_mlp,
)
from tfgans.models.mlp import MLPDiscriminator, MLPGenerator, build_mlp
from tfgans.models.pix2pix import (
    PatchGANDiscriminator,
    UNetGenerator,
    build_pix2pix,
    patchgan_receptive_field,
)
from tfgans.models.points import PointsDiscriminator, PointsGenerator, build_points
from tfgans.models.presets import PRESETS, Preset
from tfgans.models.progan import ProGANDiscriminator, ProGANGenerator, build_progan
from tfgans.models.resnet import ResNetDiscriminator, ResNetGenerator, build_sngan
from tfgans.models.sagan import build_sagan, default_attention_resolution
from tfgans.models.srgan import (
    SRGANDiscriminator,
    SRResNetGenerator,
    build_srgan,
    subpixel_upsample,
)
from tfgans.models.ssgan import SSGANDiscriminator, build_ssgan
from tfgans.models.stackgan import build_stackgan
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

PRESETS.register("points_mlp", Preset(
    "points_mlp", trainer="points", build=build_points,
    keys={
        "width": Key(128, "int", low=1, doc="units of every hidden layer"),
        "generator_layers": Key(2, "int", low=1, doc="the generator's hidden layers"),
        "discriminator_layers": Key(1, "int", low=1, doc="the discriminator's hidden layers"),
        "init_gain": Key(0.8, "float", low=0.0, low_open=True,
                         doc="gain of the orthogonal weight initialisation"),
        "input_scale": Key(0.25, "float", low=0.0, low_open=True,
                           doc="the discriminator multiplies its input by this first"),
    },
    # Metz et al. 2017, appendix A (2-D mixture of Gaussians): 256-D noise, the GAN loss
    # (minimax), Adam(1e-4, beta_1 0.5) for both networks, batch 512, no weight average.
    defaults={"model.latent_dim": 256, "data.name": "ring_of_gaussians",
              "data.batch_size": 512, "loss.name": "minimax", "optimizer.beta_1": 0.5,
              "optimizer.beta_2": 0.999, "train.ema": 0.0},
    doc="2-D points (the unrolled-GAN paper's MLPs): ring / grid of Gaussians",
    reference="https://arxiv.org/abs/1611.02163",
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
            "weight, layer, orthonormal (regularisation, beta 1e-4) or none"),
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


# ------------------------------------------------------- image -> image (zoo III)

PRESETS.register("pix2pix", Preset(
    "pix2pix", trainer="pix2pix", build=build_pix2pix,
    keys={
        "width": Key(64, "int", low=1, doc="filters of the U-Net's first layer (C64 in the paper)"),
        "depth": Key(4, "int", low=2, doc="the U-Net's stride-2 levels (8 for 256 px in the "
                     "paper; 4 for 28 px, padded to 32)"),
        "dropout": Key(0.5, "float", low=0.0, high=1.0, high_open=True,
                       doc="dropout rate of the U-Net's 3 innermost decoder layers (training only)"),
        "discriminator_width": Key(64, "int", low=1, doc="filters of the PatchGAN's first layer"),
        "discriminator_layers": Key(3, "int", low=1,
                                    doc="the PatchGAN's stride-2 layers: its receptive field "
                                    "(1: 16 px, 2: 34 px, 3: the paper's 70 px)"),
    },
    # Isola et al. 2017, section 3.3 / appendix 6.1: Adam(2e-4, beta_1 0.5, beta_2 0.999),
    # non-saturating loss + 100 * L1, D's objective halved, instance norm (batch norm at
    # batch size 1). The batch size is the config's (the paper's is 1; the config's 16).
    defaults={"data.name": "edges2fashion", "optimizer.generator_lr": 2e-4,
              "optimizer.discriminator_lr": 2e-4, "optimizer.beta_1": 0.5,
              "optimizer.beta_2": 0.999},
    doc="pix2pix (Isola et al. 2017): U-Net generator with dropout, PatchGAN discriminator "
    "on (source, output) pairs, instance norm, non-saturating + 100 * L1",
    reference="https://arxiv.org/abs/1611.07004",
))
PRESETS.register("cyclegan", Preset(
    "cyclegan", trainer="cyclegan", build=build_cyclegan,
    keys={
        "width": Key(64, "int", low=1, doc="k, the filters of the ResNet generators' first "
                     "layer (the paper's 64)"),
        "residual_blocks": Key(6, "int", low=1, doc="residual blocks of each generator (the "
                               "paper's 6 for 128 px, 9 for 256 px)"),
        "downsamplings": Key(2, "int", low=0, doc="stride-2 levels down and up in each "
                             "generator (the paper's 2: 28 -> 14 -> 7)"),
        "discriminator_width": Key(64, "int", low=1, doc="filters of the PatchGANs' first layer"),
        "discriminator_layers": Key(3, "int", low=1,
                                    doc="the PatchGANs' stride-2 layers: their receptive field "
                                    "(1: 16 px, 2: 34 px, 3: the paper's 70 px)"),
    },
    # Zhu et al. 2017, section 4 / appendix 7.1: least squares, lambda 10, identity 0.5
    # lambda, a pool of 50 generated images, Adam(2e-4, beta_1 0.5), batch 1, the learning
    # rate constant for the first half and linear to 0 over the second.
    defaults={"data.name": "sneaker2boot", "data.batch_size": 1,
              **{f"optimizer.{n}_lr": 2e-4 for n in ("generator_ab", "generator_ba",
                                                     "discriminator_a", "discriminator_b")},
              "optimizer.beta_1": 0.5, "optimizer.beta_2": 0.999},
    doc="CycleGAN (Zhu et al. 2017): unpaired A <-> B with two ResNet generators, two "
    "PatchGANs, least squares, cycle (lambda 10) and identity losses, history pools, "
    "linear learning-rate decay",
    reference="https://arxiv.org/abs/1703.10593",
))
PRESETS.register("srgan", Preset(
    "srgan", trainer="srgan", build=build_srgan,
    keys={
        "scale": Key(4, "int", low=2,
                     doc="upsampling factor, a power of 2 (sources are this many times smaller "
                     "per side; fashion_x4: 4)"),
        "width": Key(64, "int", low=1, doc="filters of the SRResNet body (the paper's 64)"),
        "residual_blocks": Key(16, "int", low=1, doc="SRResNet's residual blocks B (16)"),
        "discriminator_width": Key(64, "int", low=1,
                                   doc="filters of the discriminator's first level (64)"),
        "discriminator_levels": Key(3, "int", low=1,
                                    doc="the discriminator's stride-2 levels (the paper's 4 "
                                    "for 96 px; 3 for 28 px)"),
        "dense_units": Key(1024, "int", low=1,
                           doc="the discriminator's hidden dense layer (1024)"),
        "synchronized_bn": Key(True, "bool",
                               doc="batch norm with the global batch's statistics "
                               "(replica-independent results)"),
    },
    # Ledig et al. 2017, section 3.2: Adam(1e-4, beta_1 0.9) for both networks, SRResNet
    # pretrained on the MSE, then the VGG content loss + 1e-3 * adversarial. The batch
    # size is the config's (the paper's is 16).
    defaults={"data.name": "fashion_x4", "data.batch_size": 16,
              "optimizer.generator_lr": 1e-4, "optimizer.discriminator_lr": 1e-4,
              "optimizer.beta_1": 0.9, "optimizer.beta_2": 0.999},
    doc="SRGAN (Ledig et al. 2017): SRResNet with sub-pixel upsampling, MSE pretraining, "
    "then a content loss on a pretrained network's features + 1e-3 * adversarial",
    reference="https://arxiv.org/abs/1609.04802",
))
PRESETS.register("inpainting", Preset(
    "inpainting", trainer="inpainting", build=build_inpainting,
    keys={
        "width": Key(64, "int", low=1, doc="filters of the context encoder's first level"),
        "depth": Key(3, "int", low=1, doc="stride-2 levels (28 px: 3, padded to 32)"),
        "partial": Key(False, "bool", doc="partial convolutions in the encoder (Liu et al. 2018)"),
        "skips": Key(False, "bool", doc="U-Net skip connections (Liu et al.; Pathak et al. "
                     "have none)"),
        "discriminator": Key("global", "str", choices=("global", "global_local"),
                             doc="global (Pathak et al.) or global_local (Iizuka et al. 2017: "
                             "+ a local discriminator on the crop around the hole)"),
        "discriminator_width": Key(64, "int", low=1, doc="filters of the discriminators' "
                                   "first layer"),
        "discriminator_layers": Key(2, "int", low=1, doc="stride-2 layers of the global "
                                    "PatchGAN (the local one has one fewer)"),
    },
    # Pathak et al. 2016 (section 3 / their code): Adam(2e-4, beta_1 0.5), L2 in the hole
    # plus 0.001 * the adversarial loss; masks from the data (fashion_inpaint).
    defaults={"data.name": "fashion_inpaint", "optimizer.generator_lr": 2e-4,
              "optimizer.discriminator_lr": 2e-4, "optimizer.beta_1": 0.5,
              "optimizer.beta_2": 0.999},
    doc="Inpainting: context encoder (Pathak et al. 2016), L2 in the hole + 0.001 * "
    "adversarial; options: global + local D (Iizuka et al. 2017), partial convolutions "
    "with perceptual and style losses (Liu et al. 2018)",
    reference="https://arxiv.org/abs/1604.07379",
))
# ------------------------------------------- auto-encoder discriminators (zoo II, issue 16)

PRESETS.register("began", Preset(
    "began", trainer="began", build=build_began,
    keys={
        "width": Key(64, "int", low=1, doc="filters of every convolution (the paper's n)"),
        "embedding_dim": Key(64, "int", low=1,
                             doc="size of the discriminator's embedding h (the paper's N_h)"),
    },
    # Berthelot et al. 2017, section 4.1: Adam at 1e-4 (the paper's range 5e-5 - 1e-4;
    # beta_1 0.5 as in the common implementations: the paper names only Adam), batch 16,
    # N_z = N_h = 64, gamma 0.5 (figures show 0.3-0.7), lambda_k 0.001, k_0 = 0, L1.
    defaults={"optimizer.generator_lr": 1e-4, "optimizer.discriminator_lr": 1e-4,
              "optimizer.beta_1": 0.5, "optimizer.beta_2": 0.999, "data.batch_size": 16},
    image_sizes=tuple(START_SIZES),
    doc="BEGAN (Berthelot et al. 2017): auto-encoder D, L1, equilibrium controller k_t",
    reference="https://arxiv.org/abs/1703.10717",
))
PRESETS.register("ebgan", Preset(
    "ebgan", trainer="ebgan", build=build_ebgan,
    keys={
        "width": Key(64, "int", low=1, doc="base filters of G and of D's encoder"),
        "synchronized_bn": Key(True, "bool",
                               doc="batch norm with the statistics of the global batch"),
    },
    # Zhao et al. 2017: Adam 1e-3 with beta_1 0.5, EBGAN-PT with pull-away weight 0.1,
    # batch 64; the margin is in this library's energy units (per-pixel MSE).
    defaults={"optimizer.generator_lr": 1e-3, "optimizer.discriminator_lr": 1e-3,
              "optimizer.beta_1": 0.5, "optimizer.beta_2": 0.999},
    image_sizes=tuple(START_SIZES),
    doc="EBGAN-PT (Zhao et al. 2017): auto-encoder energy D, margin, pull-away term",
    reference="https://arxiv.org/abs/1609.03126",
))


# ------------------------------------------------------------------- InfoGAN (zoo II)

PRESETS.register("infogan", Preset(
    "infogan", trainer="infogan", build=build_infogan,
    keys={
        "width": Key(64, "int", low=1,
                     doc="base filters: the paper's 64 (D: 64, 128, FC 1024; G: FC 1024, "
                     "7x7x128, 64)"),
        **INFOGAN_CODE_KEYS,
    },
    # Chen et al. 2016, appendix C.1 (MNIST): 62 noise variables, one 10-way categorical
    # and two continuous codes; Adam with beta_1 0.5, D 2e-4, G 1e-3; the non-saturating
    # loss, batch norm in both networks, no weight average; batch 128 as the authors'
    # code (openai/InfoGAN, run_mnist_exp.py). lambda: 1 for the categorical code,
    # 0.1 for the continuous ones ("a smaller lambda", section 6).
    defaults={"model.latent_dim": 62, "loss.name": "non_saturating", "loss.n_critic": 1,
              "loss.gradient_penalty": 0.0, "optimizer.generator_lr": 1e-3,
              "optimizer.discriminator_lr": 2e-4, "optimizer.beta_1": 0.5,
              "optimizer.beta_2": 0.999, "data.batch_size": 128, "train.ema": 0.0},
    image_sizes=(28,),
    doc="InfoGAN (Chen et al. 2016): categorical + continuous codes, a Q head on D's body, "
    "the mutual-information bound",
    reference="https://arxiv.org/abs/1606.03657",
))


# --------------------------------------------------- semi-supervised GAN (issue 16)

PRESETS.register("ssgan", Preset(
    "ssgan", trainer="ssgan", build=build_ssgan,
    keys={
        "architecture": Key("conv", "str", choices=("conv", "mlp"),
                            doc="conv: the paper's CIFAR-10 networks, scaled down; mlp: its "
                            "MNIST networks (weight-normalised MLP D with Gaussian noise)"),
        "width": Key(32, "int", low=1, doc="conv: the discriminator's first filters (x2 per "
                     "stride-2 convolution) and the DCGAN generator's width; mlp: the "
                     "layers' scale (32: D 1024-512-256-256-256, G 512-512)"),
        "dropout": Key(0.5, "float", low=0.0, high=1.0, high_open=True,
                       doc="the discriminator's dropout after each convolution"),
        "input_dropout": Key(0.2, "float", low=0.0, high=1.0, high_open=True,
                             doc="the discriminator's dropout on its input images"),
        "input_noise": Key(0.6, "float", low=0.0, doc="mlp: std of the Gaussian noise on "
                           "D's input images in [-1, 1] (the paper's 0.3 on [0, 1])"),
        "noise": Key(0.5, "float", low=0.0,
                     doc="mlp: std of the Gaussian noise after each of D's hidden layers"),
    },
    # Salimans et al. 2016, section 5 and their code (openai/improved-gan): Adam with
    # beta_1 0.5 for both networks (CIFAR-10: learning rate 3e-4), 100 noise variables,
    # feature matching for G, half of each batch labelled; no weight average of G. Labels
    # from a balanced subset of 10 per class (data.labeled_per_class).
    defaults={"model.latent_dim": 100, "data.labels": True, "data.labeled_per_class": 10,
              "optimizer.generator_lr": 3e-4, "optimizer.discriminator_lr": 3e-4,
              "optimizer.beta_1": 0.5, "optimizer.beta_2": 0.999, "train.ema": 0.0},
    image_sizes=tuple(START_SIZES),
    doc="semi-supervised GAN (Salimans et al. 2016): a K-class discriminator (K+1 with the "
    "fake class' logit 0), few labels, feature matching",
    reference="https://arxiv.org/abs/1606.03498",
))


PRESETS.register("progan", Preset(
    "progan", trainer="progan", build=build_progan,
    keys={
        "width": Key(32, "int", low=1, doc="channels at full resolution (x2 per halving, at "
                     "most x4; the paper: 512 up to 32 px)"),
        "group_size": Key(4, "int", low=1, doc="minibatch standard deviation group size"),
    },
    # Karras et al. 2018, appendix A.1: WGAN-GP (lambda 10) with the drift term, one critic
    # step per G step, Adam(1e-3, beta_1 0, beta_2 0.99), EMA of G (0.999).
    defaults={"loss.name": "wasserstein", "loss.gradient_penalty": 10.0, "loss.n_critic": 1,
              "optimizer.generator_lr": 1e-3, "optimizer.discriminator_lr": 1e-3,
              "optimizer.beta_1": 0.0, "optimizer.beta_2": 0.99, "train.ema": 0.999},
    image_sizes=(28, 32, 64),
    doc="Progressive GAN (Karras et al. 2018): grows 7x7 -> 28x28 (4x4 -> 32 / 64) with "
    "fade-in, pixel norm, minibatch stddev, equalised lr, WGAN-GP + drift; unconditional",
    reference="https://arxiv.org/abs/1710.10196",
))


# ------------------------------------------------------------- text -> image (StackGAN)

PRESETS.register("stackgan", Preset(
    "stackgan", trainer="stackgan", build=build_stackgan,
    keys={
        "width": Key(32, "int", low=1, doc="base number of filters"),
        "code_dim": Key(16, "int", low=1, doc="size of the text code (conditioning "
                        "augmentation)"),
        "text_dim": Key(64, "int", low=1, doc="size of the text embeddings"),
        "embedding_dim": Key(32, "int", low=1, doc="size of the word vectors"),
        "sequence_length": Key(16, "int", low=1, doc="words read per description"),
        "vocabulary": Key(None, "str_list", nullable=True,
                          doc="the tokeniser's words; null: those of the data's captions"),
    },
    # StackGAN's Adam (learning rate 2e-4, beta_1 0.5) for all four networks (Zhang et al.
    # 2017, section 4). The discriminator's text pairs need (images, text) data.
    defaults={"data.name": "fashion_mnist_captions", "eval.every": 0,
              "optimizer.beta_1": 0.5, "optimizer.beta_2": 0.999,
              **{f"optimizer.stage{s}_{n}_lr": 2e-4 for s in (1, 2)
                 for n in ("generator", "discriminator")}},
    doc="StackGAN (Zhang et al. 2017): text -> image in two stages, conditioning "
    "augmentation, matching-aware discriminator (GAN-CLS, Reed et al. 2016)",
    reference="https://arxiv.org/abs/1612.03242",
))


def get(name):
    """Returns the preset registered as `name` ("dcgan", "mlp", "sngan", "sagan",
    "biggan", "began", "ebgan", "infogan", "pix2pix", "cyclegan", "srgan", "inpainting",
    "progan", "stackgan", "ssgan", "points_mlp"); calling it builds the networks.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    return PRESETS.get(name)


__all__ = [
    "PRESETS",
    "PatchGANDiscriminator",
    "UNetGenerator",
    "build_pix2pix",
    "patchgan_receptive_field",
    "ResNetTranslator",
    "build_cyclegan",
    "SRGANDiscriminator",
    "SRResNetGenerator",
    "build_srgan",
    "subpixel_upsample",
    "ContextEncoder",
    "GlobalLocalDiscriminator",
    "build_inpainting",
    "compose",
    "generator_input",
    "BEGANDiscriminator",
    "BEGANGenerator",
    "EBGANDiscriminator",
    "BigGANGenerator",
    "ConcatInputsGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "InfoGANDiscriminator",
    "InfoGANGenerator",
    "InfoGANMLPDiscriminator",
    "MLPDiscriminator",
    "MLPGenerator",
    "OneHotChannelsDiscriminator",
    "OneHotConcatGenerator",
    "PointsDiscriminator",
    "PointsGenerator",
    "Preset",
    "ProGANDiscriminator",
    "ProGANGenerator",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "SSGANDiscriminator",
    "build_began",
    "build_biggan",
    "build_dcgan",
    "build_ebgan",
    "build_infogan",
    "build_infogan_mlp",
    "build_mlp",
    "build_progan",
    "build_points",
    "build_sagan",
    "build_sngan",
    "build_ssgan",
    "build_stackgan",
    "get",
]
