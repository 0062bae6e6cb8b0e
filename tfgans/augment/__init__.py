"""Differentiable augmentations for data-efficient GAN training: DiffAugment and ADA.

Both take their random numbers as arguments (uniform draws the trainer makes statelessly
from (seed, step) for the global batch), own no random state, and use `keras.ops` only.
"""

from tfgans.augment.ada import ADA_TRANSFORMS, AdaPipeline, ada_overfitting_heuristic, ada_update
from tfgans.augment.diffaugment import (
    DIFF_AUGMENT_POLICIES,
    brightness,
    contrast,
    cutout,
    diff_augment,
    diff_augment_num_draws,
    parse_policy,
    saturation,
    translation,
)

__all__ = [
    "ADA_TRANSFORMS",
    "AdaPipeline",
    "DIFF_AUGMENT_POLICIES",
    "ada_overfitting_heuristic",
    "ada_update",
    "brightness",
    "contrast",
    "cutout",
    "diff_augment",
    "diff_augment_num_draws",
    "parse_policy",
    "saturation",
    "translation",
]
