"""Losses of text-conditioned GANs: StackGAN's conditioning augmentation and GAN-CLS'
matching-aware discriminator, in `keras.ops`.

Reference: [Zhang et al., 2017](https://arxiv.org/abs/1612.03242) (StackGAN),
[Reed et al., 2016](https://arxiv.org/abs/1605.05396) (GAN-CLS, GAN-INT).
"""

from keras import ops

from tfgans.losses.common import as_float32, sigmoid_cross_entropy


def conditioning_augmentation_kl(mean, log_variance):
    """KL divergence of the text code's Gaussian from the standard normal, per example
    summed over the code, averaged over the batch:

    `loss = mean_b sum_d 0.5 * (mean^2 + exp(log_variance) - 1 - log_variance)`,
    the closed form of `KL(N(mean, diag(exp(log_variance))) || N(0, I))`.

    Args:
        mean, log_variance: [batch, code_dim].

    Reference: StackGAN, eq. (3): https://arxiv.org/abs/1612.03242
    """
    mean, log_variance = as_float32(mean), as_float32(log_variance)
    kl = 0.5 * (ops.square(mean) + ops.exp(log_variance) - 1.0 - log_variance)
    return ops.mean(ops.sum(kl, axis=-1))


def matching_aware_discriminator_loss(real_logits, wrong_logits, fake_logits):
    """GAN-CLS' discriminator loss: a real image with its description is real; a real
    image with a mismatched description and a generated image with its description are
    fake, weighted one half each:

    `loss = mean(softplus(-s_r)) + 0.5 * (mean(softplus(s_w)) + mean(softplus(s_f)))`,
    i.e. `-log D(x, t) - 0.5 * (log(1 - D(x, t')) + log(1 - D(G(z, t), t)))` with
    `D = sigmoid(logit)`.

    Reference: Reed et al. 2016, Algorithm 1: https://arxiv.org/abs/1605.05396
    """
    real = ops.mean(sigmoid_cross_entropy(ops.ones_like(real_logits), real_logits))
    wrong = ops.mean(sigmoid_cross_entropy(ops.zeros_like(wrong_logits), wrong_logits))
    fake = ops.mean(sigmoid_cross_entropy(ops.zeros_like(fake_logits), fake_logits))
    return real + 0.5 * (wrong + fake)


def matching_aware_generator_loss(fake_logits):
    """The generator's side: `loss = mean(softplus(-s_f)) = -mean(log D(G(z, t), t))`
    (non-saturating)."""
    return ops.mean(sigmoid_cross_entropy(ops.ones_like(fake_logits), fake_logits))
