"""Losses on what a discriminator predicts besides real / fake: classes and latent codes.

- AC-GAN: the discriminator also classifies, real and generated images alike.
- InfoGAN: a recogniser Q predicts the generator's structured codes back from its images;
  the negative log-likelihood of the codes is the (negated) variational lower bound of the
  mutual information, up to the constant entropy of the code prior.
- Semi-supervised K+1 GAN: the discriminator's K class logits also decide real / fake,
  with the "real" logit `logsumexp(class_logits)`.

Reduction as everywhere in `tfgans.losses`: `sum(weights * losses) / count_nonzero(weights)`
over the examples, in float32, `keras.ops` only.
"""

import math

from keras import ops

from tfgans.losses.common import (
    as_float32,
    per_example_mean,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
    weighted_mean,
)

__all__ = [
    "acgan_discriminator_loss",
    "acgan_generator_loss",
    "infogan_categorical_loss",
    "infogan_continuous_loss",
    "mutual_information_penalty",
    "ssgan_discriminator_loss",
    "ssgan_generator_loss",
    "ssgan_real_logit",
    "ssgan_supervised_loss",
    "ssgan_unsupervised_discriminator_loss",
]


def _gather_log_softmax(logits, ids):
    """`log_softmax(logits)[..., ids]`: the log-probability of class `ids` (int, in range)."""
    log_probs = ops.log_softmax(as_float32(logits), axis=-1)
    ids = ops.expand_dims(ops.cast(ids, "int32"), -1)
    return ops.squeeze(ops.take_along_axis(log_probs, ids, axis=-1), -1)


# AC-GAN auxiliary classification losses from "Conditional Image Synthesis With Auxiliary
# Classifier GANs" (https://arxiv.org/abs/1610.09585).


def _softmax_cross_entropy(one_hot_labels, logits, weights, label_smoothing):
    # As tf.compat.v1.losses.softmax_cross_entropy: labels -> labels * (1 - s) + s / C.
    logits = as_float32(logits)
    labels = as_float32(one_hot_labels)
    num_classes = ops.cast(ops.shape(logits)[-1], "float32")
    labels = labels * (1.0 - label_smoothing) + label_smoothing / num_classes
    return weighted_mean(softmax_cross_entropy(labels, logits), weights)


def acgan_discriminator_loss(
    real_class_logits,
    fake_class_logits,
    one_hot_labels,
    label_smoothing=0.0,
    real_weights=1.0,
    generated_weights=1.0,
):
    """AC-GAN classification loss of the discriminator: softmax cross-entropy on both.

    `loss = CE(labels, C(x)) + CE(labels, C(G(z, labels)))`; the real labels are smoothed
    as `labels * (1 - s) + s / num_classes`.

    Reference: https://arxiv.org/abs/1610.09585
    """
    return _softmax_cross_entropy(
        one_hot_labels, fake_class_logits, generated_weights, 0.0
    ) + _softmax_cross_entropy(one_hot_labels, real_class_logits, real_weights, label_smoothing)


def acgan_generator_loss(fake_class_logits, one_hot_labels, weights=1.0):
    """AC-GAN classification loss of the generator, `loss = CE(labels, C(G(z, labels)))`.

    Reference: https://arxiv.org/abs/1610.09585
    """
    return _softmax_cross_entropy(one_hot_labels, fake_class_logits, weights, 0.0)


# InfoGAN from "InfoGAN: Interpretable Representation Learning by Information Maximizing
# Generative Adversarial Nets" (https://arxiv.org/abs/1606.03657).


def infogan_categorical_loss(code_logits, code_ids, weights=1.0):
    """Negative log-likelihood of a categorical code under the recogniser Q.

    `loss = -mean_i log q(c_i | G(z_i, c_i)) = mean_i CE(c_i, softmax(Q(G(z_i, c_i))))`.
    The mutual information lower bound is `L_I = H(c) - loss`, with `H(c) = log(K)` for a
    uniform prior over K categories: a constant, so minimising `loss` maximises `L_I`.

    Args:
        code_logits: Q's logits, [B, K] (or [B, n, K] for n codes of K categories).
        code_ids: the categories fed to the generator, int [B] (or [B, n]).
        weights: optional weights broadcastable to `code_ids`.

    Returns:
        A scalar float32 loss.

    Example:
    >>> float(infogan_categorical_loss([[0.0, 0.0]], [1]))  # log(2): Q knows nothing
    0.693...

    Reference: https://arxiv.org/abs/1606.03657 (section 5)
    """
    return weighted_mean(-_gather_log_softmax(code_logits, code_ids), weights)


def infogan_continuous_loss(mean, log_std, codes, weights=1.0):
    """Negative log-likelihood of continuous codes under Q's factorised Gaussian.

    Per code dimension, with `sigma = exp(log_std)`:
    `nll = 0.5 * log(2 * pi) + log_std + 0.5 * ((codes - mean) / sigma)^2`,
    i.e. `-log N(codes; mean, sigma^2)`; averaged over the code dimensions, then over the
    batch (TF-GAN's `reduce_mean` of `Normal.log_prob`). The paper fixes `sigma = 1`:
    pass `log_std=0.0`. The mutual information bound is `L_I = H(c) - loss`, up to the
    constant entropy of the code prior.

    Args:
        mean: Q's predicted means, [B, d] (or [B]).
        log_std: Q's predicted log standard deviations, broadcastable to `mean`.
        codes: the continuous codes fed to the generator, shape of `mean`.
        weights: optional per-example weights broadcastable to [B].

    Returns:
        A scalar float32 loss.

    Example:
    >>> float(infogan_continuous_loss([0.0], 0.0, [0.0]))  # 0.5 * log(2 * pi)
    0.918...

    Reference: https://arxiv.org/abs/1606.03657 (section 5)
    """
    mean, log_std, codes = as_float32(mean), as_float32(log_std), as_float32(codes)
    z = (codes - mean) * ops.exp(-log_std)
    nll = 0.5 * math.log(2.0 * math.pi) + log_std + 0.5 * ops.square(z)
    nll = ops.broadcast_to(nll, ops.shape(codes))
    return weighted_mean(per_example_mean(nll), weights)


def mutual_information_penalty(categorical=(), continuous=(), weights=1.0):
    """InfoGAN's mutual information penalty over several codes, as TF-GAN computes it.

    With per-code losses `l_i` (`infogan_categorical_loss` for each `(code_logits,
    code_ids)` in `categorical`, then `infogan_continuous_loss` for each `(mean, log_std,
    codes)` in `continuous`), `loss = sum_i w_i * l_i / count_nonzero(w)`: TF-GAN's
    `mutual_information_penalty`, `-compute_weighted_loss([mean log q(c_i | x)], weights)`.
    A scalar `weights = lambda` gives `lambda * mean_i l_i`, the `lambda * L_I` term of the
    paper (up to the constant entropies); TF-GAN's `gan_loss` adds it to both the generator
    and the discriminator (Q) losses. Note the mean over codes: for the paper's sum
    `sum_i lambda_i * l_i`, multiply by the number of codes.

    Args:
        categorical: a sequence of `(code_logits, code_ids)` pairs.
        continuous: a sequence of `(mean, log_std, codes)` triples.
        weights: a scalar, or one weight per code (categorical first, then continuous).

    Returns:
        A scalar float32 loss.

    Reference: https://arxiv.org/abs/1606.03657 (TF-GAN: `losses_impl.py`,
    `mutual_information_penalty`)
    """
    categorical, continuous = tuple(categorical), tuple(continuous)
    if not categorical and not continuous:
        raise ValueError(
            "`mutual_information_penalty` needs at least one code. "
            f"Received: categorical={categorical!r}, continuous={continuous!r}"
        )
    for name, items, size in (("categorical", categorical, 2), ("continuous", continuous, 3)):
        for item in items:
            if len(item) != size:
                raise ValueError(
                    f"Each entry of `{name}` must be a tuple of {size} tensors. "
                    f"Received: an entry of length {len(item)}"
                )
    per_code = [infogan_categorical_loss(logits, ids) for logits, ids in categorical]
    per_code += [infogan_continuous_loss(m, s, c) for m, s, c in continuous]
    return weighted_mean(ops.stack(per_code), weights)


# Semi-supervised K+1 GAN from "Improved Techniques for Training GANs", section 5
# (https://arxiv.org/abs/1606.03498): the discriminator is a K-class classifier whose
# (K+1)-th "fake" logit is fixed at 0, so `D(x) = Z(x) / (Z(x) + 1)`, `Z = sum_k exp(l_k)`.


def ssgan_real_logit(class_logits):
    """The K+1 discriminator's real / fake logit, `logsumexp_k(class_logits)`.

    `sigmoid(logsumexp(l)) = Z / (Z + 1)` with `Z = sum_k exp(l_k)`: the probability of
    "real" when the fake class has logit 0.

    Args:
        class_logits: [B, K] (or [..., K]).

    Returns:
        [B] float32 logits (the last axis reduced), stable for large logits.

    Reference: https://arxiv.org/abs/1606.03498 (section 5)
    """
    return ops.logsumexp(as_float32(class_logits), axis=-1)


def ssgan_supervised_loss(class_logits, labels, mask=None):
    """Cross-entropy of the K class logits on the labelled examples only.

    `loss = -sum_i m_i * log softmax(l_i)[y_i] / count_nonzero(m)`, with `m_i = 0` where
    `y_i = -1` (unlabelled, the data convention) and `m_i = mask_i` elsewhere; 0 when no
    example in the batch is labelled. Under a strategy, the count is per replica.

    Args:
        class_logits: the discriminator's K class logits on real data, [B, K].
        labels: int class ids [B]; -1 marks an unlabelled example.
        mask: optional extra per-example weights [B] (0 drops an example).

    Returns:
        A scalar float32 loss.

    Example:
    >>> float(ssgan_supervised_loss([[0.0, 0.0], [5.0, 0.0]], [0, -1]))  # log(2)
    0.693...

    Reference: https://arxiv.org/abs/1606.03498 (section 5)
    """
    labels = ops.cast(labels, "int32")
    labelled = ops.greater_equal(labels, 0)
    weights = as_float32(labelled)
    if mask is not None:
        weights = weights * as_float32(mask)
    safe_labels = ops.where(labelled, labels, ops.zeros_like(labels))
    return weighted_mean(-_gather_log_softmax(class_logits, safe_labels), weights)


def ssgan_unsupervised_discriminator_loss(
    real_class_logits, fake_class_logits, real_weights=1.0, generated_weights=1.0
):
    """The K+1 discriminator's real / fake loss, `-mean log D(x) - mean log(1 - D(G(z)))`.

    With `D = Z / (Z + 1)` and `lse = logsumexp(class_logits) = log Z`:
    `-log D(x) = softplus(-lse(x))` and `-log(1 - D(G(z))) = softplus(lse(G(z)))`, so
    `loss = mean(softplus(-lse(x))) + mean(softplus(lse(G(z))))`, computed stably (the
    minimax discriminator loss on `ssgan_real_logit`).

    Args:
        real_class_logits: class logits on real data (labelled or not), [B, K].
        fake_class_logits: class logits on generated data, [B, K].
        real_weights: optional weights broadcastable to [B].
        generated_weights: optional weights broadcastable to [B].

    Returns:
        A scalar float32 loss.

    Reference: https://arxiv.org/abs/1606.03498 (section 5)
    """
    real = ssgan_real_logit(real_class_logits)
    fake = ssgan_real_logit(fake_class_logits)
    return weighted_mean(
        sigmoid_cross_entropy(ops.ones_like(real), real), real_weights
    ) + weighted_mean(sigmoid_cross_entropy(ops.zeros_like(fake), fake), generated_weights)


def ssgan_discriminator_loss(real_class_logits, fake_class_logits, labels,
                             unsupervised_weight=1.0):
    """The semi-supervised K+1 discriminator's whole loss on a mixed batch.

    `loss = L_supervised + unsupervised_weight * L_unsupervised`, with `L_supervised` the
    cross-entropy of the labelled examples (`ssgan_supervised_loss`: labels >= 0) and
    `L_unsupervised = -mean_{unlabelled x} log D(x) - mean_z log(1 - D(G(z)))`
    (`ssgan_unsupervised_discriminator_loss`, real term over the examples labelled -1),
    `D = Z / (Z + 1)`, `Z = sum_k exp(l_k)`.

    Args:
        real_class_logits: class logits of the real batch, [B, K].
        fake_class_logits: class logits of the generated batch, [B', K].
        labels: int [B], class ids, -1 for unlabelled examples.
        unsupervised_weight: the weight of the real / fake term.

    Returns:
        A scalar float32 loss.

    Example:
    >>> round(float(ssgan_discriminator_loss([[0.0, 0.0], [0.0, 0.0]], [[-50.0, -50.0]],
    ...                                      [1, -1])), 4)  # log 2 + log(3/2)
    1.0986

    Reference: https://arxiv.org/abs/1606.03498 (section 5)
    """
    unlabelled = as_float32(ops.less(ops.cast(labels, "int32"), 0))
    return ssgan_supervised_loss(real_class_logits, labels) + unsupervised_weight * (
        ssgan_unsupervised_discriminator_loss(real_class_logits, fake_class_logits,
                                              real_weights=unlabelled))


def ssgan_entropy_loss(class_logits, weights=1.0):
    """Mean entropy of the class posterior, `-sum_k p_k log p_k` with `p = softmax(l)`
    (entropy minimisation, Grandvalet & Bengio 2005; with the K+1 GAN in Dai et al. 2017):
    added to the discriminator's loss on unlabelled images it pushes the class boundaries
    away from them.

    Args:
        class_logits: [B, K] class logits.
        weights: optional weights broadcastable to [B] (e.g. 1 on unlabelled examples).

    Returns:
        A scalar float32 loss (the weighted mean over the batch; 0 for zero weights).

    Example:
    >>> round(float(ssgan_entropy_loss([[0.0, 0.0], [50.0, 0.0]])), 4)  # (log 2 + 0) / 2
    0.3466

    Reference: https://arxiv.org/abs/1705.09783 (section 4)
    """
    logits = as_float32(class_logits)
    log_p = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    entropy = -ops.sum(ops.exp(log_p) * log_p, axis=-1)
    return weighted_mean(entropy, weights)


def ssgan_generator_loss(fake_class_logits, weights=1.0):
    """Non-saturating K+1 generator loss, `-mean log D(G(z)) = mean(softplus(-lse(G(z))))`.

    The paper trains the semi-supervised generator with `feature_matching_loss` instead;
    this is the plain alternative.

    Reference: https://arxiv.org/abs/1606.03498 (section 5)
    """
    fake = ssgan_real_logit(fake_class_logits)
    return weighted_mean(sigmoid_cross_entropy(ops.ones_like(fake), fake), weights)
