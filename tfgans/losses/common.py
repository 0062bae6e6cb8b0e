"""The reduction and the stable cross-entropies that every loss module shares.

Every tfgans loss reduces as TF-GAN does (`SUM_BY_NONZERO_WEIGHTS`):
`sum(weights * losses) / count_nonzero(weights)`, the plain mean when the weights are 1,
and computes in float32 whatever the dtype of its inputs (mixed precision).
"""

from keras import ops


def as_float32(x):
    """Casts `x` (a tensor, array or Python number) to float32."""
    return ops.cast(x, "float32")


def weighted_mean(losses, weights=1.0):
    """Reduces `losses` as TF-GAN's SUM_BY_NONZERO_WEIGHTS does.

    `loss = sum(weights * losses) / count_nonzero(weights)` with `weights` broadcast to the
    shape of `losses`; with all weights 1 this is the mean, and with all weights 0 it is 0.

    Example:
    >>> float(weighted_mean([1.0, 2.0, 6.0], [1.0, 1.0, 0.0]))
    1.5
    """
    losses = as_float32(losses)
    weights = ops.broadcast_to(as_float32(weights), ops.shape(losses))
    nonzero = ops.sum(as_float32(ops.not_equal(weights, 0.0)))
    return ops.divide_no_nan(ops.sum(losses * weights), nonzero)


def sigmoid_cross_entropy(labels, logits):
    """Elementwise `-z * log(sigmoid(x)) - (1 - z) * log(1 - sigmoid(x))`, unreduced.

    Computed as `max(x, 0) - x * z + log(1 + exp(-|x|))`, stable for large `|x|`; with
    `z = 1` it is `softplus(-x)`, with `z = 0` it is `softplus(x)`.
    """
    logits = as_float32(logits)
    labels = as_float32(labels)
    return ops.relu(logits) - logits * labels + ops.log1p(ops.exp(-ops.abs(logits)))


def softmax_cross_entropy(one_hot_labels, logits):
    """Per-example `-sum_k labels_k * log_softmax(logits)_k` over the last axis, unreduced."""
    logits = as_float32(logits)
    labels = as_float32(one_hot_labels)
    return -ops.sum(labels * ops.log_softmax(logits, axis=-1), axis=-1)


def per_example_mean(x):
    """Means `x` over every axis but the first (the batch): [B, ...] -> [B]; [B] stays."""
    x = as_float32(x)
    if len(x.shape) <= 1:
        return x
    return ops.mean(x, axis=tuple(range(1, len(x.shape))))


def check_range(name, value, low=None, high=None):
    """Raises a ValueError naming `name` if the Python number `value` is outside [low, high].

    Tensors pass unchecked (their value is not known when a step is traced).
    """
    if not isinstance(value, (int, float)):
        return
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
        raise ValueError(f"`{name}` must be in {bounds}. Received: {name}={value!r}")
