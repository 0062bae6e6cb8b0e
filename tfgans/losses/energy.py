"""Energy-based GANs: an auto-encoder discriminator whose reconstruction error is the energy.

- BEGAN matches the distributions of the auto-encoder losses on real and generated images,
  with a balance `k_t` that the trainer keeps as state and updates by `began_k_update`.
- EBGAN pushes the energy of real images down and of generated ones up to a margin, and
  adds a pull-away term on the encoder's codes against mode collapse.

These are the terms only; the trainer runs the auto-encoder, holds `k_t` and chooses which
noise draws feed which term. Reduction as everywhere in `tfgans.losses`: a per-example
value, then `sum(weights * values) / count_nonzero(weights)`, in float32.
"""

from keras import ops

from tfgans.losses.common import as_float32, check_range, per_example_mean, weighted_mean

__all__ = [
    "began_autoencoder_loss",
    "began_convergence",
    "began_discriminator_loss",
    "began_generator_loss",
    "began_k_update",
    "ebgan_discriminator_loss",
    "ebgan_energy",
    "ebgan_generator_loss",
    "pull_away_term",
]


# BEGAN from "BEGAN: Boundary Equilibrium Generative Adversarial Networks"
# (https://arxiv.org/abs/1703.10717).


def began_autoencoder_loss(x, reconstruction, eta=1, weights=1.0):
    """BEGAN's auto-encoder loss `L(v) = |v - D(v)|^eta`, per image, then over the batch.

    `loss = mean_i mean_pixels(|x_i - D(x_i)|^eta)`: the pixel mean keeps `gamma` and
    `lambda_k` independent of the image size, as in the authors' settings.

    Args:
        x: images (real or generated), [B, ...].
        reconstruction: the auto-encoder's output `D(x)`, same shape.
        eta: 1 (the paper's choice, L1) or 2.
        weights: optional per-example weights broadcastable to [B].

    Returns:
        A scalar float32 loss.

    Example:
    >>> float(began_autoencoder_loss([[1.0, -1.0]], [[0.5, 0.0]]))  # (0.5 + 1) / 2
    0.75

    Reference: https://arxiv.org/abs/1703.10717 (section 3.1)
    """
    if eta not in (1, 2):
        raise ValueError(f"`eta` must be 1 or 2. Received: eta={eta!r}")
    error = ops.abs(as_float32(x) - as_float32(reconstruction))
    if eta == 2:
        error = ops.square(error)
    return weighted_mean(per_example_mean(error), weights)


def began_discriminator_loss(real_ae_loss, fake_ae_loss, k):
    """BEGAN discriminator loss, `L_D = L(x) - k_t * L(G(z_D))`.

    Args:
        real_ae_loss: `began_autoencoder_loss` on real images, a scalar.
        fake_ae_loss: `began_autoencoder_loss` on generated images, a scalar.
        k: the balance `k_t` in [0, 1] (trainer state, no gradient).

    Reference: https://arxiv.org/abs/1703.10717 (section 3.3)
    """
    k = ops.stop_gradient(as_float32(k))
    return as_float32(real_ae_loss) - k * as_float32(fake_ae_loss)


def began_generator_loss(fake_ae_loss):
    """BEGAN generator loss, `L_G = L(G(z_G))`.

    Reference: https://arxiv.org/abs/1703.10717 (section 3.3)
    """
    return as_float32(fake_ae_loss)


def began_k_update(k, real_ae_loss, fake_ae_loss, gamma, lambda_k=0.001):
    """BEGAN's proportional control of the balance, `k_{t+1}`.

    `k_{t+1} = clip(k_t + lambda_k * (gamma * L(x) - L(G(z_G))), 0, 1)`. No gradient flows
    through it; the trainer assigns the result to its `k_t` variable after the step.

    Args:
        k: the current `k_t`.
        real_ae_loss: `L(x)` this step.
        fake_ae_loss: `L(G(z_G))` this step.
        gamma: the diversity ratio `E[L(G(z))] / E[L(x)]` aimed at, in [0, 1].
        lambda_k: the proportional gain (the paper uses 0.001), >= 0.

    Returns:
        The new `k`, a float32 scalar in [0, 1].

    Example:
    >>> float(began_k_update(0.0, 1.0, 0.25, gamma=0.5))  # 0.001 * (0.5 - 0.25)
    0.00025...

    Reference: https://arxiv.org/abs/1703.10717 (section 3.3)
    """
    check_range("gamma", gamma, 0.0, 1.0)
    check_range("lambda_k", lambda_k, 0.0)
    real = ops.stop_gradient(as_float32(real_ae_loss))
    fake = ops.stop_gradient(as_float32(fake_ae_loss))
    return ops.clip(as_float32(k) + lambda_k * (gamma * real - fake), 0.0, 1.0)


def began_convergence(real_ae_loss, fake_ae_loss, gamma):
    """BEGAN's global convergence measure, `M_global = L(x) + |gamma * L(x) - L(G(z_G))|`.

    Lower is better; it tracks image quality and detects mode collapse / convergence.

    Reference: https://arxiv.org/abs/1703.10717 (section 3.4.1)
    """
    check_range("gamma", gamma, 0.0, 1.0)
    real = as_float32(real_ae_loss)
    return real + ops.abs(gamma * real - as_float32(fake_ae_loss))


# EBGAN from "Energy-based Generative Adversarial Network"
# (https://arxiv.org/abs/1609.03126).


def ebgan_energy(x, reconstruction):
    """EBGAN's energy per example: the auto-encoder's mean squared reconstruction error.

    `D(x)_i = mean_pixels((x_i - Dec(Enc(x_i)))^2)`, shape [B] (unreduced over the batch,
    since the discriminator loss hinges each example at the margin).

    Reference: https://arxiv.org/abs/1609.03126 (section 2.3)
    """
    return per_example_mean(ops.square(as_float32(x) - as_float32(reconstruction)))


def ebgan_discriminator_loss(
    real_energy, fake_energy, margin, real_weights=1.0, generated_weights=1.0
):
    """EBGAN discriminator loss, `L_D = mean(D(x)) + mean(max(0, m - D(G(z))))`.

    Args:
        real_energy: `ebgan_energy` of real examples, [B].
        fake_energy: `ebgan_energy` of generated examples, [B].
        margin: the margin `m` > 0; generated examples with energy above it cost nothing.
        real_weights: optional weights broadcastable to [B].
        generated_weights: optional weights broadcastable to [B].

    Returns:
        A scalar float32 loss.

    Example:
    >>> float(ebgan_discriminator_loss([0.5], [0.25], margin=1.0))  # 0.5 + (1 - 0.25)
    1.25

    Reference: https://arxiv.org/abs/1609.03126 (section 2.2)
    """
    if isinstance(margin, (int, float)) and margin <= 0:
        raise ValueError(f"`margin` must be positive. Received: margin={margin!r}")
    hinged = ops.relu(margin - as_float32(fake_energy))
    return weighted_mean(real_energy, real_weights) + weighted_mean(hinged, generated_weights)


def ebgan_generator_loss(fake_energy, weights=1.0):
    """EBGAN generator loss, `L_G = mean(D(G(z)))` (add `pull_away_term` for EBGAN-PT).

    Reference: https://arxiv.org/abs/1609.03126 (section 2.2)
    """
    return weighted_mean(fake_energy, weights)


def unit_codes(codes, epsilon=1e-12):
    """Codes [N, ...] flattened per example and scaled to unit length: [N, d] float32 (a
    code shorter than `epsilon` is divided by `epsilon`, so a zero code stays zero)."""
    codes = as_float32(codes)
    codes = ops.reshape(codes, (ops.shape(codes)[0], -1))
    norms = ops.sqrt(ops.sum(ops.square(codes), axis=1, keepdims=True))
    return codes / ops.maximum(norms, epsilon)


def pull_away_term(codes, epsilon=1e-12):
    """EBGAN's pull-away term on a batch of codes (the encoder's output on G(z)).

    `f_PT(S) = 1 / (N (N - 1)) * sum_{i != j} cos(s_i, s_j)^2`: 0 for mutually orthogonal
    codes, 1 when all codes point the same way. The generator adds it with a weight
    (0.1 in the paper) to push its samples apart.

    Args:
        codes: [N, ...], flattened per example.
        epsilon: the smallest norm divided by (a zero code counts as orthogonal to all).

    Returns:
        A scalar float32 (0 when N = 1).

    Reference: https://arxiv.org/abs/1609.03126 (section 2.4)
    """
    unit = unit_codes(codes, epsilon)
    cosine = ops.matmul(unit, ops.transpose(unit))
    n = as_float32(ops.shape(codes)[0])
    off_diagonal = ops.sum(ops.square(cosine)) - ops.sum(ops.square(ops.diagonal(cosine)))
    return ops.divide_no_nan(off_diagonal, n * (n - 1.0))
