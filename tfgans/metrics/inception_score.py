"""Inception Score from classifier logits.

Reference: Salimans et al., "Improved Techniques for Training GANs",
https://arxiv.org/abs/1606.03498
"""

import numpy as np

__all__ = ["inception_score"]


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def inception_score(logits, splits=10):
    """Inception Score `exp(E_x KL(p(y|x) || p(y)))`, mean and std over `splits` parts.

    As in the reference implementation, the samples are cut into `splits` consecutive
    parts of (nearly) equal size; `p(y)` is the mean of `p(y|x)` within a part. float64.
    It ranges from 1 (every sample gets the same prediction) to the number of classes
    (confident predictions spread evenly over the classes).

    Args:
        logits: array [num_samples, num_classes] of unnormalised log-probabilities.
        splits: number of parts; each needs at least one sample.

    Returns:
        (mean, std) over the parts, as Python floats.

    Example:
    >>> confident = 50.0 * np.eye(10)[np.arange(1000) % 10]
    >>> round(inception_score(confident)[0], 6)
    10.0
    """
    logits = np.asarray(logits, np.float64)
    if logits.ndim != 2:
        raise ValueError(
            f"`logits` must have shape [num_samples, num_classes]. Received {logits.shape}."
        )
    if not 1 <= splits <= len(logits):
        raise ValueError(
            f"`splits` must be between 1 and the number of samples ({len(logits)}). "
            f"Received `splits={splits}`."
        )
    scores = []
    for part in np.array_split(logits, splits):
        log_p = _log_softmax(part)
        log_marginal = np.log(np.exp(log_p).mean(axis=0))
        kl = (np.exp(log_p) * (log_p - log_marginal)).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))
