"""Losses that match statistics of real and generated data in a network's feature space.

Used by the semi-supervised GAN's generator (Salimans et al.) and by any trainer that
matches the discriminator's intermediate features (pix2pixHD-style feature matching).
"""

from keras import ops

from tfgans.losses.common import as_float32

__all__ = ["feature_matching_loss"]


def feature_matching_loss(real_features, fake_features):
    """Feature matching, `|| mean_batch f(x) - mean_batch f(G(z)) ||_2^2`.

    `loss = sum_j (mean_i f(x_i)_j - mean_i f(G(z_i))_j)^2` over every feature `j` (the
    non-batch axes, flattened): the squared L2 norm of the difference of the batch means.
    Implementations that average over the features instead differ by the constant factor
    `num_features`. The batch means are the local batch's; a distributed trainer that wants
    the global batch's passes the cross-replica means as one-row batches.

    Args:
        real_features: f on real data, [B, ...] (an intermediate discriminator layer).
        fake_features: f on generated data, [B', ...] (same feature shape; B' may differ).

    Returns:
        A scalar float32 loss.

    Example:
    >>> float(feature_matching_loss([[1.0, 2.0], [3.0, 2.0]], [[0.0, 0.0]]))  # 2^2 + 2^2
    8.0

    Reference: https://arxiv.org/abs/1606.03498 (section 3.1)
    """
    real_mean = ops.mean(as_float32(real_features), axis=0)
    fake_mean = ops.mean(as_float32(fake_features), axis=0)
    return ops.sum(ops.square(real_mean - fake_mean))
