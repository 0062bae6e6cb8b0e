"""Perceptual and style losses on a feature network's activations (Liu et al. 2018).

Given the feature maps `psi_p` of layers p = 1..P for an output and for its target:

    gram(psi) = psi^T psi / (H * W * C)               per image, [C, C]
    perceptual_loss = sum_p mean |psi_p(out) - psi_p(target)|
    style_loss      = sum_p mean |gram(psi_p(out)) - gram(psi_p(target))|

(means over the batch and the elements: Liu et al. divide by each layer's size the same
way). The inpainting trainer takes them on the committed Fashion-MNIST classifier's
pooling layers (`feature_maps`), for both the raw and the composed output.

Reference: [Liu et al., 2018](https://arxiv.org/abs/1804.07723), equations 3-5.
"""

from keras import ops


def gram_matrix(features):
    """The Gram matrix of feature maps [B, H, W, C]: `psi^T psi / (H W C)`, [B, C, C]."""
    features = ops.cast(features, "float32")
    _, height, width, channels = features.shape
    flat = ops.reshape(features, (-1, height * width, channels))
    return ops.einsum("bnc,bnd->bcd", flat, flat) / float(height * width * channels)


def perceptual_loss(output_features, target_features):
    """`sum_p mean |psi_p(out) - psi_p(target)|` over lists of feature maps."""
    return sum(ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))
               for a, b in zip(output_features, target_features, strict=True))


def style_loss(output_features, target_features):
    """`sum_p mean |gram(psi_p(out)) - gram(psi_p(target))|` over lists of feature maps."""
    return sum(ops.mean(ops.abs(gram_matrix(a) - gram_matrix(b)))
               for a, b in zip(output_features, target_features, strict=True))
