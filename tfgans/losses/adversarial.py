"""Adversarial losses for GANs, with TF-GAN's names, formulas, constants and reduction.

Convention: a higher discriminator logit means "real". Every loss takes logits of any
shape (patch discriminators included) and reduces them as TF-GAN does
(`SUM_BY_NONZERO_WEIGHTS`): `sum(weights * losses) / count_nonzero(weights)`, which is the
plain mean when the weights are 1. Losses are computed in float32 whatever the dtype of the
logits (mixed precision) and use `keras.ops` only, so they run on any Keras backend.

The trainers pick a pair by name with `get(name)`, which returns a `GANLoss`.
"""

import dataclasses
from typing import Callable

from keras import ops

from tfgans.losses.common import as_float32, sigmoid_cross_entropy, weighted_mean
from tfgans.registry import Registry

__all__ = [
    "GANLoss",
    "LOSSES",
    "get",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "modified_discriminator_loss",
    "modified_generator_loss",
    "relativistic_discriminator_loss",
    "relativistic_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "wasserstein_hinge_discriminator_loss",
    "wasserstein_hinge_generator_loss",
]


def _smoothed_sigmoid_cross_entropy(labels, logits, weights, label_smoothing):
    # As tf.compat.v1.losses.sigmoid_cross_entropy: labels -> labels * (1 - s) + s / 2.
    logits = as_float32(logits)
    labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return weighted_mean(sigmoid_cross_entropy(labels, logits), weights)


# Original losses from "Generative Adversarial Nets" (https://arxiv.org/abs/1406.2661).


def minimax_discriminator_loss(
    real_logits, fake_logits, label_smoothing=0.0, real_weights=1.0, generated_weights=1.0
):
    """Original minimax discriminator loss, with one-sided label smoothing.

    `loss = -mean(log(sigmoid(D(x)))) - mean(log(1 - sigmoid(D(G(z)))))`, where with
    `label_smoothing = s` the real targets are `1 - s / 2` (as in
    `tf.compat.v1.losses.sigmoid_cross_entropy`). TF-GAN defaults to `s = 0.25`; tfgans
    defaults to 0.

    Args:
        real_logits: discriminator logits on real data, any shape.
        fake_logits: discriminator logits on generated data, same shape.
        label_smoothing: amount of smoothing of the real labels, in [0, 1].
        real_weights: optional weights broadcastable to `real_logits`.
        generated_weights: optional weights broadcastable to `fake_logits`.

    Returns:
        A scalar float32 loss.

    Example:
    >>> float(minimax_discriminator_loss([0.0], [0.0]))  # 2 * log(2)
    1.386...

    Reference: https://arxiv.org/abs/1406.2661 (smoothing: https://arxiv.org/abs/1606.03498)
    """
    real_logits = as_float32(real_logits)
    fake_logits = as_float32(fake_logits)
    loss_on_real = _smoothed_sigmoid_cross_entropy(
        ops.ones_like(real_logits), real_logits, real_weights, label_smoothing
    )
    loss_on_fake = _smoothed_sigmoid_cross_entropy(
        ops.zeros_like(fake_logits), fake_logits, generated_weights, 0.0
    )
    return loss_on_real + loss_on_fake


def minimax_generator_loss(fake_logits, label_smoothing=0.0, weights=1.0):
    """Original (saturating) minimax generator loss, `log(1 - sigmoid(D(G(z))))`.

    Computed exactly as TF-GAN does, as `-minimax_discriminator_loss(ones, fake_logits)`,
    which adds the constant `-softplus(-1) = -0.3133` (with `label_smoothing = 0`) to
    `mean(log(1 - sigmoid(D(G(z)))))`. The constant has no gradient; it is kept so the numbers
    match TF-GAN's. Prefer `modified_generator_loss`, which does not saturate.

    Reference: https://arxiv.org/abs/1406.2661
    """
    fake_logits = as_float32(fake_logits)
    return -minimax_discriminator_loss(
        ops.ones_like(fake_logits), fake_logits, label_smoothing, weights, weights
    )


def modified_discriminator_loss(
    real_logits, fake_logits, label_smoothing=0.0, real_weights=1.0, generated_weights=1.0
):
    """Same as `minimax_discriminator_loss` (TF-GAN's name for the non-saturating pair)."""
    return minimax_discriminator_loss(
        real_logits, fake_logits, label_smoothing, real_weights, generated_weights
    )


def modified_generator_loss(fake_logits, label_smoothing=0.0, weights=1.0):
    """Non-saturating generator loss, `loss = -mean(log(sigmoid(D(G(z)))))`.

    Reference: https://arxiv.org/abs/1406.2661 (section 3)
    """
    fake_logits = as_float32(fake_logits)
    return _smoothed_sigmoid_cross_entropy(
        ops.ones_like(fake_logits), fake_logits, weights, label_smoothing
    )


# Wasserstein losses from "Wasserstein GAN" (https://arxiv.org/abs/1701.07875).


def wasserstein_discriminator_loss(
    real_logits, fake_logits, real_weights=1.0, generated_weights=1.0
):
    """Wasserstein critic loss, `loss = mean(D(G(z))) - mean(D(x))`.

    Reference: https://arxiv.org/abs/1701.07875
    """
    return weighted_mean(fake_logits, generated_weights) - weighted_mean(
        real_logits, real_weights
    )


def wasserstein_generator_loss(fake_logits, weights=1.0):
    """Wasserstein generator loss, `loss = -mean(D(G(z)))`.

    Reference: https://arxiv.org/abs/1701.07875
    """
    return -weighted_mean(fake_logits, weights)


# Hinge losses from "Spectral Normalization for GANs" (https://arxiv.org/abs/1802.05957).


def wasserstein_hinge_discriminator_loss(
    real_logits,
    fake_logits,
    real_weights=1.0,
    generated_weights=1.0,
    real_hinge=1.0,
    generated_hinge=1.0,
):
    """Hinge discriminator loss.

    `loss = mean(max(0, 1 - D(x))) + mean(max(0, 1 + D(G(z))))` (margins `real_hinge`,
    `generated_hinge`).

    Reference: https://arxiv.org/abs/1802.05957
    """
    hinged_real = ops.relu(real_hinge - as_float32(real_logits))
    hinged_fake = ops.relu(generated_hinge + as_float32(fake_logits))
    return weighted_mean(hinged_fake, generated_weights) + weighted_mean(
        hinged_real, real_weights
    )


def wasserstein_hinge_generator_loss(fake_logits, weights=1.0):
    """Hinge generator loss, `loss = -mean(D(G(z)))` (the Wasserstein generator loss).

    Reference: https://arxiv.org/abs/1802.05957
    """
    return wasserstein_generator_loss(fake_logits, weights)


# Least squares losses from "Least Squares GANs" (https://arxiv.org/abs/1611.04076).


def least_squares_discriminator_loss(
    real_logits,
    fake_logits,
    real_label=1.0,
    fake_label=0.0,
    real_weights=1.0,
    generated_weights=1.0,
):
    """Least squares discriminator loss.

    `loss = mean(0.5 * (D(x) - real_label)^2) + mean(0.5 * (D(G(z)) - fake_label)^2)`

    Reference: https://arxiv.org/abs/1611.04076
    """
    real_losses = 0.5 * ops.square(as_float32(real_logits) - real_label)
    fake_losses = 0.5 * ops.square(as_float32(fake_logits) - fake_label)
    return weighted_mean(real_losses, real_weights) + weighted_mean(
        fake_losses, generated_weights
    )


def least_squares_generator_loss(fake_logits, real_label=1.0, weights=1.0):
    """Least squares generator loss, `loss = mean(0.5 * (D(G(z)) - real_label)^2)`.

    Reference: https://arxiv.org/abs/1611.04076
    """
    return weighted_mean(0.5 * ops.square(as_float32(fake_logits) - real_label), weights)


# Relativistic average losses from "The relativistic discriminator"
# (https://arxiv.org/abs/1807.00734).


def relativistic_discriminator_loss(
    real_logits,
    fake_logits,
    real_weights=1.0,
    generated_weights=1.0,
    real_mean=None,
    fake_mean=None,
):
    """Relativistic average (RaSGAN) discriminator loss.

    `loss = -mean(log(sigmoid(D(x) - mean D(G(z))))) - mean(log(1 - sigmoid(D(G(z)) - mean D(x))))`

    Args:
        real_logits: discriminator logits on real data.
        fake_logits: discriminator logits on generated data.
        real_weights: optional weights broadcastable to `real_logits`.
        generated_weights: optional weights broadcastable to `fake_logits`.
        real_mean, fake_mean: the batch means of the logits, if already known (a
            distributed trainer passes the means over the whole global batch); default
            `mean(real_logits)`, `mean(fake_logits)`.

    Reference: https://arxiv.org/abs/1807.00734
    """
    real_logits, fake_logits = as_float32(real_logits), as_float32(fake_logits)
    real_mean = ops.mean(real_logits) if real_mean is None else real_mean
    fake_mean = ops.mean(fake_logits) if fake_mean is None else fake_mean
    real_rel = real_logits - fake_mean
    fake_rel = fake_logits - real_mean
    return weighted_mean(
        sigmoid_cross_entropy(ops.ones_like(real_rel), real_rel), real_weights
    ) + weighted_mean(sigmoid_cross_entropy(ops.zeros_like(fake_rel), fake_rel), generated_weights)


def relativistic_generator_loss(
    real_logits,
    fake_logits,
    real_weights=1.0,
    generated_weights=1.0,
    real_mean=None,
    fake_mean=None,
):
    """Relativistic average (RaSGAN) generator loss: the discriminator's, roles swapped.

    `loss = -mean(log(sigmoid(D(G(z)) - mean D(x)))) - mean(log(1 - sigmoid(D(x) - mean D(G(z)))))`

    Reference: https://arxiv.org/abs/1807.00734
    """
    return relativistic_discriminator_loss(
        fake_logits, real_logits, generated_weights, real_weights, fake_mean, real_mean
    )


@dataclasses.dataclass(frozen=True)
class GANLoss:
    """A named pair of adversarial losses and the training defaults that go with it.

    Attributes:
        name: the registry name.
        d_loss_fn: `(real_logits, fake_logits, **kw) -> scalar`.
        g_loss_fn: `(fake_logits, real_logits, **kw) -> scalar`.
        gradient_penalty: the default WGAN-GP weight for this loss.
        n_critic: the default number of discriminator updates per generator update.
        uses_batch_mean: whether the loss depends on the batch means of the logits
            (relativistic); its functions then take `real_mean` / `fake_mean`, which
            distributed trainers compute over the whole global batch.
    """

    name: str
    d_loss_fn: Callable
    g_loss_fn: Callable
    gradient_penalty: float = 0.0
    n_critic: int = 1
    uses_batch_mean: bool = False

    def discriminator_loss(self, real_logits, fake_logits, **kwargs):
        return self.d_loss_fn(real_logits, fake_logits, **kwargs)

    def generator_loss(self, fake_logits, real_logits=None, **kwargs):
        return self.g_loss_fn(fake_logits, real_logits, **kwargs)


LOSSES = Registry("loss")


def _generator_only(fn):
    """Adapts a generator loss of the fake logits alone to `(fake, real, **kw)`."""

    def g_loss(fake_logits, real_logits=None, **kwargs):
        return fn(fake_logits, **kwargs)

    g_loss.__name__ = fn.__name__
    return g_loss


def _relativistic_g(fake_logits, real_logits, **kwargs):
    if real_logits is None:
        raise ValueError("The relativistic generator loss needs `real_logits`. Received: None.")
    return relativistic_generator_loss(real_logits, fake_logits, **kwargs)


for _loss in (
    GANLoss(
        "wasserstein",
        wasserstein_discriminator_loss,
        _generator_only(wasserstein_generator_loss),
        gradient_penalty=10.0,
        n_critic=5,
    ),
    GANLoss("minimax", minimax_discriminator_loss, _generator_only(minimax_generator_loss)),
    GANLoss(
        "non_saturating", modified_discriminator_loss, _generator_only(modified_generator_loss)
    ),
    GANLoss(
        "hinge",
        wasserstein_hinge_discriminator_loss,
        _generator_only(wasserstein_hinge_generator_loss),
    ),
    GANLoss(
        "least_squares",
        least_squares_discriminator_loss,
        _generator_only(least_squares_generator_loss),
    ),
    GANLoss(
        "relativistic",
        relativistic_discriminator_loss,
        _relativistic_g,
        uses_batch_mean=True,
    ),
):
    LOSSES.register(_loss.name, _loss)


def get(identifier):
    """Returns the `GANLoss` named `identifier` (or `identifier` itself if it is one).

    Valid names: "wasserstein", "minimax", "non_saturating", "hinge", "least_squares",
    "relativistic". An unknown name raises a ValueError that lists them.
    """
    if isinstance(identifier, GANLoss):
        return identifier
    if not isinstance(identifier, str):
        raise ValueError(
            "`loss` must be a loss name or a tfgans.losses.GANLoss. "
            f"Received: loss={identifier!r}"
        )
    if identifier not in LOSSES:
        raise ValueError(
            f"Unknown loss {identifier!r}. Valid loss names: {', '.join(LOSSES.names())}. "
            "A custom GANLoss must be registered (tfgans.losses.register) before a config "
            "names it or a saved GAN that uses it is loaded."
        )
    return LOSSES.get(identifier)


def register(loss):
    """Registers a custom `GANLoss` under its name, so that configs can name it and a GAN
    compiled with it loads back with `keras.models.load_model` (the saved GAN stores the
    loss' name). Registering the same object again is a no-op; another loss under a taken
    name is an error.

    `GAN.compile(loss=GANLoss(...))` registers it too; in a new process, register it before
    loading, as Keras asks for custom objects.

    Example:
    ```python
    soft_hinge = tfgans.losses.register(tfgans.losses.GANLoss(
        "soft_hinge", d_loss_fn=my_d_loss, g_loss_fn=my_g_loss))
    gan.compile(loss="soft_hinge")
    ```

    Returns:
        `loss`.
    """
    if not isinstance(loss, GANLoss):
        raise ValueError(
            f"`loss` must be a tfgans.losses.GANLoss. Received: {type(loss).__name__}"
        )
    if loss.name in LOSSES:
        if LOSSES.get(loss.name) is loss:
            return loss
        raise ValueError(
            f"A different loss is already registered as {loss.name!r}: give yours another "
            "name."
        )
    LOSSES.register(loss.name, loss)
    return loss
