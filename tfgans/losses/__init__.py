"""GAN losses in `keras.ops`, with TF-GAN's names, formulas, constants and reduction.

Convention: a higher discriminator logit means "real". Every loss reduces as TF-GAN does
(`sum(weights * losses) / count_nonzero(weights)`, the mean when the weights are 1) and
computes in float32. The trainers pick an adversarial pair by name with `get(name)`.

Modules:
    adversarial: the real / fake losses (minimax, Wasserstein, hinge, ...), `GANLoss`, `get`.
    auxiliary: classes and codes predicted by the discriminator (AC-GAN, InfoGAN, K+1).
    energy: auto-encoder discriminators (BEGAN, EBGAN).
    matching: feature statistics matching.
    perceptual: reconstruction and content losses of paired image -> image (SRGAN).
    style: perceptual and style (Gram) losses on a feature network (inpainting).
    common: the reduction and cross-entropies they share.
"""

from tfgans.losses.adversarial import (
    LOSSES,
    GANLoss,
    get,
    register,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    minimax_discriminator_loss,
    minimax_generator_loss,
    modified_discriminator_loss,
    modified_generator_loss,
    relativistic_discriminator_loss,
    relativistic_generator_loss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
    wasserstein_hinge_discriminator_loss,
    wasserstein_hinge_generator_loss,
)
from tfgans.losses.auxiliary import (
    acgan_discriminator_loss,
    acgan_generator_loss,
    infogan_categorical_loss,
    infogan_continuous_loss,
    mutual_information_penalty,
    ssgan_discriminator_loss,
    ssgan_entropy_loss,
    ssgan_generator_loss,
    ssgan_real_logit,
    ssgan_supervised_loss,
    ssgan_unsupervised_discriminator_loss,
)
from tfgans.losses.common import weighted_mean
from tfgans.losses.energy import (
    began_autoencoder_loss,
    began_convergence,
    began_discriminator_loss,
    began_generator_loss,
    began_k_update,
    ebgan_discriminator_loss,
    ebgan_energy,
    ebgan_generator_loss,
    pull_away_term,
)
from tfgans.losses.matching import feature_matching_loss
from tfgans.losses.perceptual import content_loss
from tfgans.losses.style import gram_matrix, perceptual_loss, style_loss
from tfgans.losses.text import (
    conditioning_augmentation_kl,
    matching_aware_discriminator_loss,
    matching_aware_generator_loss,
)

__all__ = [
    "conditioning_augmentation_kl",
    "matching_aware_discriminator_loss",
    "matching_aware_generator_loss",
    "GANLoss",
    "LOSSES",
    "acgan_discriminator_loss",
    "acgan_generator_loss",
    "began_autoencoder_loss",
    "began_convergence",
    "began_discriminator_loss",
    "began_generator_loss",
    "began_k_update",
    "content_loss",
    "ebgan_discriminator_loss",
    "ebgan_energy",
    "ebgan_generator_loss",
    "feature_matching_loss",
    "gram_matrix",
    "perceptual_loss",
    "style_loss",
    "get",
    "register",
    "infogan_categorical_loss",
    "infogan_continuous_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "modified_discriminator_loss",
    "modified_generator_loss",
    "mutual_information_penalty",
    "pull_away_term",
    "relativistic_discriminator_loss",
    "relativistic_generator_loss",
    "ssgan_discriminator_loss",
    "ssgan_entropy_loss",
    "ssgan_generator_loss",
    "ssgan_real_logit",
    "ssgan_supervised_loss",
    "ssgan_unsupervised_discriminator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "wasserstein_hinge_discriminator_loss",
    "wasserstein_hinge_generator_loss",
    "weighted_mean",
]
