"""Reconstruction and perceptual (content) losses of paired image -> image training.

Reference: [Ledig et al., 2017](https://arxiv.org/abs/1609.04802), equations 4 and 5
(SRGAN's pixel-wise MSE and its VGG content loss).
"""

from keras import ops

from tfgans.losses.common import as_float32


def content_loss(target_features, output_features):
    """Mean squared distance between feature maps (or pixels), SRGAN's content loss.

    `loss = mean((phi(target) - phi(output))^2)` over every element: with `phi` the
    identity it is the pixel-wise MSE (equation 4), with `phi` a pretrained network's
    feature map it is the VGG loss (equation 5, `1 / (W H)` times the sum, averaged over
    channels and the batch too).

    Example:
    >>> float(content_loss([[1.0, 2.0]], [[0.0, 4.0]]))
    2.5
    """
    diff = as_float32(target_features) - as_float32(output_features)
    return ops.mean(ops.square(diff))
