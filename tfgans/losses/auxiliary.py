"""Losses on what a discriminator predicts besides real / fake: classes and latent codes.

- AC-GAN: the discriminator also classifies, real and generated images alike.

Reduction as everywhere in `tfgans.losses`: `sum(weights * losses) / count_nonzero(weights)`
over the examples, in float32, `keras.ops` only.
"""

from keras import ops

from tfgans.losses.common import as_float32, softmax_cross_entropy, weighted_mean

__all__ = [
    "acgan_discriminator_loss",
    "acgan_generator_loss",
]


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
