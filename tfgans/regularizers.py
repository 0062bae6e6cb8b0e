"""Stabilising terms for GAN training that are not adversarial losses or input-gradient
penalties: LeCam, (balanced) consistency regularisation, historical averaging, label
noise and smoothing, and lazy R1 scheduling.

Everything here is `keras.ops` math on logits, labels and weights; the trainers in
`tfgans.training` decide where each term enters (D's or G's loss), keep the state (EMAs,
running means) as non-trainable variables so it is checkpointed, and draw any random
numbers statelessly from (seed, step). Convention: a higher discriminator logit means
"real"; terms are reduced with a plain mean over the local batch, like the losses.
"""

from keras import ops

__all__ = [
    "balanced_consistency_loss",
    "consistency_loss",
    "ema_update",
    "flip_labels",
    "historical_average_update",
    "historical_averaging_penalty",
    "label_flip_probability",
    "lazy_r1_weight",
    "lecam_regularizer",
    "smooth_labels",
]


def _float(x):
    return ops.cast(x, "float32")


def _check_unit_interval(name, value):
    if isinstance(value, (int, float)) and not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={value}")


# LeCam: https://arxiv.org/abs/2104.03310


def lecam_regularizer(real_logits, fake_logits, ema_real, ema_fake):
    """LeCam regulariser for the discriminator (Tseng et al., 2021).

    `R_LC = mean(relu(D(x) - ema_fake)^2) + mean(relu(ema_real - D(G(z)))^2)`

    where `ema_real` and `ema_fake` are exponential moving averages of the batch means of
    D's logits on reals and fakes (`ema_update` with decay 0.99). It keeps D's predictions
    near those anchors, bounding the LeCam divergence the GAN optimises. The paper writes
    the terms as plain squared distances (eq. 3); the authors' code (google/lecam-gan,
    `lecam_reg`) applies the `relu`, penalising only reals scored above the fake anchor and
    fakes scored below the real anchor. This follows the code. Added to D's loss with a
    weight (0.3 for BigGAN on CIFAR, 0.01 for StyleGAN2 in the paper).

    Args:
        real_logits, fake_logits: D's logits, any shape.
        ema_real, ema_fake: scalar moving averages of `mean(real_logits)` and
            `mean(fake_logits)` (no gradient flows into them).

    Returns:
        A scalar float32.

    Example:
    >>> float(lecam_regularizer([2.0, 0.0], [-1.0, 1.0], ema_real=0.5, ema_fake=-0.5))
    4.375

    Reference: https://arxiv.org/abs/2104.03310
    """
    ema_real = ops.stop_gradient(_float(ema_real))
    ema_fake = ops.stop_gradient(_float(ema_fake))
    real_term = ops.mean(ops.square(ops.relu(_float(real_logits) - ema_fake)))
    fake_term = ops.mean(ops.square(ops.relu(ema_real - _float(fake_logits))))
    return real_term + fake_term


def ema_update(value, new, decay=0.99):
    """Exponential moving average step: `decay * value + (1 - decay) * new`.

    For LeCam, `new` is the batch mean of the logits: `ema_update(ema_real,
    mean(real_logits))`. The trainer keeps `value` in a non-trainable variable.
    """
    _check_unit_interval("decay", decay)
    return decay * _float(value) + (1.0 - decay) * ops.stop_gradient(_float(new))


# Consistency regularisation: https://arxiv.org/abs/1910.12027, balanced (bCR):
# https://arxiv.org/abs/2002.04724


def consistency_loss(logits, augmented_logits):
    """Consistency regularisation: `mean((D(x) - D(T(x)))^2)`.

    `T` is a semantics-preserving augmentation (flip, translation, ...). Both logits keep
    their gradients, as in Zhang et al. (CR-GAN).

    Reference: https://arxiv.org/abs/1910.12027
    """
    return ops.mean(ops.square(_float(logits) - _float(augmented_logits)))


def balanced_consistency_loss(
    real_logits, augmented_real_logits, fake_logits, augmented_fake_logits,
    lambda_real=10.0, lambda_fake=10.0,
):
    """Balanced consistency regularisation (bCR), a term of D's loss.

    `L_bCR = lambda_real * mean((D(x) - D(T(x)))^2)
           + lambda_fake * mean((D(G(z)) - D(T(G(z))))^2)`

    The paper uses `lambda_real = lambda_fake = 10`.

    Reference: https://arxiv.org/abs/2002.04724 (Zhao et al., "Improved Consistency
    Regularization for GANs", 2021)
    """
    return lambda_real * consistency_loss(real_logits, augmented_real_logits) + (
        lambda_fake * consistency_loss(fake_logits, augmented_fake_logits)
    )


# Historical averaging: https://arxiv.org/abs/1606.03498 (section 3.3)


def historical_averaging_penalty(weights, averages):
    """Historical averaging: `sum_k ||theta_k - mean_past(theta_k)||^2`.

    Summed (not averaged) over every element of every variable, as the paper's squared
    norm. `averages` holds the running means of the same variables (see
    `historical_average_update`), kept by the trainer in non-trainable variables; no
    gradient flows into them.

    Args:
        weights: a list of tensors (a network's trainable variables).
        averages: a list of tensors of the same shapes.

    Returns:
        A scalar float32.

    Reference: https://arxiv.org/abs/1606.03498 (Salimans et al., 2016, section 3.3)
    """
    weights, averages = list(weights), list(averages)
    if len(weights) != len(averages):
        raise ValueError(
            "`weights` and `averages` must have the same length. "
            f"Received: len(weights)={len(weights)}, len(averages)={len(averages)}"
        )
    total = ops.zeros((), "float32")
    for w, a in zip(weights, averages):
        total = total + ops.sum(ops.square(_float(w) - ops.stop_gradient(_float(a))))
    return total


def historical_average_update(averages, weights, count):
    """One step of the running means: `a + (theta - a) / (count + 1)`.

    `count` is how many past values `averages` already holds (0 at the start, where the
    result is `weights` itself), so after `t` updates each average is the mean of the `t`
    values seen.

    Returns:
        A list of the new averages.
    """
    count = _float(count)
    return [_float(a) + (_float(w) - _float(a)) / (count + 1.0) for a, w in zip(averages, weights)]


# Label noise and smoothing: https://arxiv.org/abs/1606.03498 (smoothing), ganhacks (noise).


def flip_labels(labels, flip_probability, uniform_draws):
    """Flips targets with probability `flip_probability`: `where(u < p, 1 - y, y)`.

    Args:
        labels: targets in [0, 1] (1 = real), any shape.
        flip_probability: p in [0, 1], a float or scalar tensor (see
            `label_flip_probability` for a decaying schedule).
        uniform_draws: uniform numbers in [0, 1) of the shape of `labels`, drawn by the
            trainer statelessly from (seed, step).

    Returns:
        float32 targets of the shape of `labels`.
    """
    _check_unit_interval("flip_probability", flip_probability)
    labels = _float(labels)
    return ops.where(_float(uniform_draws) < _float(flip_probability), 1.0 - labels, labels)


def label_flip_probability(step, initial, decay_steps):
    """A label-flip probability decaying linearly from `initial` at step 0 to 0 at
    `decay_steps`, and 0 after: `initial * max(0, 1 - step / decay_steps)`.
    """
    _check_unit_interval("initial", initial)
    if decay_steps <= 0:
        raise ValueError(f"`decay_steps` must be > 0. Received: decay_steps={decay_steps}")
    return initial * ops.maximum(0.0, 1.0 - _float(step) / float(decay_steps))


def smooth_labels(labels, real_smoothing=0.1, fake_smoothing=0.1):
    """Two-sided label smoothing: targets `1 - real_smoothing` for 1, `fake_smoothing` for 0.

    `targets = y * (1 - real_smoothing) + (1 - y) * fake_smoothing`. Salimans et al.
    recommend one-sided smoothing (`fake_smoothing=0`): a positive fake target rewards D
    for leaving fakes near the data where they already are.

    Example:
    >>> [round(float(t), 2) for t in smooth_labels(np.array([1.0, 0.0]), 0.1, 0.2)]
    [0.9, 0.2]

    Reference: https://arxiv.org/abs/1606.03498 (section 3.4)
    """
    _check_unit_interval("real_smoothing", real_smoothing)
    _check_unit_interval("fake_smoothing", fake_smoothing)
    labels = _float(labels)
    return labels * (1.0 - real_smoothing) + (1.0 - labels) * fake_smoothing


# Lazy regularisation: https://arxiv.org/abs/1912.04958 (StyleGAN2, section 3.1)


def lazy_r1_weight(step, interval, gamma):
    """R1's gamma under lazy regularisation: `gamma * interval` when `step % interval == 0`,
    else 0.

    StyleGAN2 computes R1 once every `interval` (16) minibatches and multiplies it by
    `interval` so its expected strength is unchanged. Pass the result as `gamma` to
    `tfgans.penalties.r1_penalty` (which applies its own `1 / 2`); on the other steps the
    trainer can skip the gradient computation altogether.

    Args:
        step: the training step (int or scalar tensor); step 0 is regularised.
        interval: regularise every `interval` steps (1: every step, not lazy).
        gamma: R1's weight.

    Returns:
        A float32 scalar.

    Reference: https://arxiv.org/abs/1912.04958 (section 3.1)
    """
    if interval < 1:
        raise ValueError(f"`interval` must be >= 1. Received: interval={interval}")
    on = ops.equal(ops.mod(ops.cast(step, "int64"), interval), 0)
    return ops.where(on, float(gamma) * interval, 0.0)
