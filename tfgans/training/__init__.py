"""Trainers: keras.Models whose train_step holds all of tfgans' gradient code.

`Trainer` is the contract every GAN family keeps; `GAN` is the noise -> image family.
"""

from tfgans.training.gan import GAN, generation_labels, resolve_settings, sample_noise
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
TRAINERS.register("points", PointsGAN)


def get_trainer(name):
    """The trainer class registered as `name` ("gan")."""
    return TRAINERS.get(name)


__all__ = [
    "AUTO_JIT_ON_CPU",
    "TRAINERS",
    "get_trainer",
    "ExecutionError",
    "ExportSpec",
    "GAN",
    "NonFiniteLossError",
    "PointsGAN",
    "StopOnNonFinite",
    "Trainer",
    "check_execution",
    "check_global_batch",
    "generation_labels",
    "is_multi_device",
    "resolve_settings",
    "sample_noise",
]
