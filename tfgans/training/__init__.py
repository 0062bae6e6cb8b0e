"""Trainers: keras.Models whose train_step holds all of tfgans' gradient code.

`Trainer` is the contract every GAN family keeps; `GAN` is the noise -> image family;
`BEGAN` and `EBGAN` are noise -> image trainers with auto-encoder discriminators;
`SSGAN` is the semi-supervised GAN.
"""

from tfgans.training.began import BEGAN
from tfgans.training.ebgan import EBGAN
from tfgans.training.energy import AutoEncoderGAN
from tfgans.training.gan import GAN, generation_labels, resolve_settings, sample_noise
from tfgans.training.pix2pix import Pix2Pix
from tfgans.training.cyclegan import CycleGAN
from tfgans.training.srgan import SRGAN
from tfgans.training.inpainting import Inpainting
from tfgans.training.infogan import InfoGAN
from tfgans.training.stackgan import StackGAN
from tfgans.training.points import PointsGAN
from tfgans.training.trainer import (
    AUTO_JIT_ON_CPU,
    ExecutionError,
    ExportSpec,
    NonFiniteLossError,
    StopOnNonFinite,
    Trainer,
    check_execution,
    check_global_batch,
    is_multi_device,
)

from tfgans.registry import Registry

#: Trainers by name (a preset names its trainer).
TRAINERS = Registry("trainer")
TRAINERS.register("gan", GAN)
TRAINERS.register("pix2pix", Pix2Pix)
TRAINERS.register("cyclegan", CycleGAN)
TRAINERS.register("srgan", SRGAN)
TRAINERS.register("inpainting", Inpainting)
TRAINERS.register("began", BEGAN)
TRAINERS.register("ebgan", EBGAN)
TRAINERS.register("infogan", InfoGAN)

from tfgans.training.progan import ProGAN  # noqa: E402 (a GAN subclass)

TRAINERS.register("progan", ProGAN)
TRAINERS.register("stackgan", StackGAN)
TRAINERS.register("points", PointsGAN)

from tfgans.training.ssgan import SSGAN  # noqa: E402 (a GAN subclass)

TRAINERS.register("ssgan", SSGAN)


def get_trainer(name):
    """The trainer class registered as `name` ("gan")."""
    return TRAINERS.get(name)


__all__ = [
    "AUTO_JIT_ON_CPU",
    "AutoEncoderGAN",
    "BEGAN",
    "CycleGAN",
    "EBGAN",
    "TRAINERS",
    "get_trainer",
    "ExecutionError",
    "ExportSpec",
    "GAN",
    "InfoGAN",
    "Inpainting",
    "NonFiniteLossError",
    "Pix2Pix",
    "ProGAN",
    "SRGAN",
    "StackGAN",
    "PointsGAN",
    "SSGAN",
    "StopOnNonFinite",
    "Trainer",
    "check_execution",
    "check_global_batch",
    "generation_labels",
    "is_multi_device",
    "resolve_settings",
    "sample_noise",
]
