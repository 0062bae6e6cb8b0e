"""Discriminator regularisers: gradient penalties (WGAN-GP, DRAGAN, R1) and weight clipping.

The penalties here are the math on the discriminator's input gradients, in `keras.ops`;
the trainers in `tfgans.training` take those gradients (all gradient code lives there) and
draw the interpolation weights and perturbations statelessly. Each penalty is reduced
per-replica like the losses (mean over the local batch) and scaled for the strategy by the
trainer together with the loss.

For a linear discriminator `D(x) = <w, x> + b` the input gradient is `w` for every example,
so the WGAN-GP penalty is `(sqrt(|w|^2 + eps) / target - 1)^2` and R1 is `|w|^2 / 2`.
"""

import dataclasses

from keras import ops

from tfgans.losses import weighted_mean

PENALTY_TYPES = ("wgan_gp", "dragan", "r1")


def _per_example_sq_norm(gradients):
    gradients = ops.cast(gradients, "float32")
    axes = tuple(range(1, len(gradients.shape)))
    return ops.sum(ops.square(gradients), axis=axes)


def interpolate(real, fake, alpha):
    """Points on the lines between real and fake examples: `real + alpha * (fake - real)`.

    Args:
        real, fake: tensors of the same shape [B, ...].
        alpha: weights [B] in [0, 1] (WGAN-GP draws them uniformly), broadcast per example.
    """
    alpha = ops.reshape(ops.cast(alpha, real.dtype), (-1,) + (1,) * (len(real.shape) - 1))
    return real + alpha * (fake - real)


def dragan_perturb(real, uniform_noise, batch_std, scale=0.5):
    """DRAGAN's perturbed reals: `x + scale * std(x) * u`, u uniform in [0, 1).

    `batch_std` is the standard deviation of the real batch (a scalar; trainers pass the
    cross-replica value so the result does not depend on the replica count).

    Reference: https://arxiv.org/abs/1705.07215
    """
    return real + scale * batch_std * ops.cast(uniform_noise, real.dtype)


def gradient_norm_penalty(gradients, target=1.0, one_sided=False, epsilon=1e-10, weights=1.0):
    """WGAN-GP / DRAGAN penalty from the discriminator's input gradients.

    `penalty = mean((sqrt(|grad|^2 + epsilon) / target - 1)^2)`, with `max(0, .)` inside
    the square when `one_sided` (Petzka et al.), as TF-GAN's `wasserstein_gradient_penalty`.

    Args:
        gradients: d D(x_hat) / d x_hat, shape [B, ...].
        target: the gradient norm aimed at.
        one_sided: penalise only norms above `target`.
        epsilon: added under the square root for stability.
        weights: optional per-example weights.

    Example:
    >>> float(gradient_norm_penalty(np.full((2, 4), 1.0)))  # norm 2 -> (2 - 1)^2
    1.0...

    Reference: https://arxiv.org/abs/1704.00028 (one-sided: https://arxiv.org/abs/1709.08894)
    """
    slopes = ops.sqrt(_per_example_sq_norm(gradients) + epsilon)
    penalties = slopes / target - 1.0
    if one_sided:
        penalties = ops.relu(penalties)
    return weighted_mean(ops.square(penalties), weights)


def r1_penalty(gradients, gamma=1.0, weights=1.0):
    """R1 penalty on real data, `gamma / 2 * mean(|grad D(x)|^2)`.

    Reference: https://arxiv.org/abs/1801.04406
    """
    return 0.5 * gamma * weighted_mean(_per_example_sq_norm(gradients), weights)


def clip_weights(variables, clip_value):
    """Clips every variable to [-clip_value, clip_value] in place (the original WGAN).

    Reference: https://arxiv.org/abs/1701.07875
    """
    for v in variables:
        v.assign(ops.clip(v, -clip_value, clip_value))


@dataclasses.dataclass(frozen=True)
class PenaltyConfig:
    """Which regulariser a trainer applies to the discriminator, and how strongly.

    Attributes:
        type: "wgan_gp" (interpolates of real and fake), "dragan" (interpolates of real and
            perturbed real) or "r1" (reals).
        weight: the coefficient of the penalty in the discriminator loss (R1's gamma).
        target: the gradient norm aimed at (WGAN-GP, DRAGAN).
        one_sided: penalise only norms above target.
        weight_clip: clip discriminator weights to [-c, c] after each update (None: no).
    """

    type: str = "wgan_gp"
    weight: float = 0.0
    target: float = 1.0
    one_sided: bool = False
    weight_clip: float = None

    def __post_init__(self):
        if self.type not in PENALTY_TYPES:
            raise ValueError(
                f"Unknown penalty type {self.type!r}. Valid types: {', '.join(PENALTY_TYPES)}."
            )
        if self.weight < 0:
            raise ValueError(f"`weight` must be >= 0. Received: weight={self.weight}")
        if self.target <= 0:
            raise ValueError(f"`target` must be > 0. Received: target={self.target}")
        if self.weight_clip is not None and self.weight_clip <= 0:
            raise ValueError(
                f"`weight_clip` must be > 0 or None. Received: weight_clip={self.weight_clip}"
            )
