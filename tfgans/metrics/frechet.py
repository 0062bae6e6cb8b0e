"""Fréchet distance (FID) between two sets of features, one-shot and streaming.

`FID = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))` between Gaussians fitted to the two
sets (Heusel et al., 2017). Everything is float64. The trace of the matrix square root is
computed without a general `sqrtm`: `S1 S2` is similar to the symmetric positive
semi-definite `A = S1^(1/2) S2 S1^(1/2)`, so `Tr((S1 S2)^(1/2)) = sum(sqrt(eigvalsh(A)))`,
with `S1^(1/2)` from `eigh` and tiny negative eigenvalues (round-off) clipped to 0. This is
stable for singular covariances (fewer samples than dimensions, dead features), where
`scipy.linalg.sqrtm` returns complex noise.

Reference: https://arxiv.org/abs/1706.08500
"""

import numpy as np

__all__ = [
    "GaussianStats",
    "StreamingFID",
    "frechet_distance",
    "frechet_distance_from_stats",
    "trace_sqrt_product",
]


def _as_features(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"`{name}` must have shape [num_samples, dim]. Received shape {x.shape}.")
    return x


def _sqrt_psd(matrix):
    """Symmetric square root of a symmetric PSD matrix, via eigh (negatives clipped)."""
    w, v = np.linalg.eigh((matrix + matrix.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1, sigma2):
    """Returns `Tr((sigma1 sigma2)^(1/2))` for symmetric PSD matrices, in float64."""
    sqrt1 = _sqrt_psd(np.asarray(sigma1, np.float64))
    inner = sqrt1 @ np.asarray(sigma2, np.float64) @ sqrt1
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2)
    return float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2):
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    `d = |mu1 - mu2|^2 + Tr(sigma1) + Tr(sigma2) - 2 Tr((sigma1 sigma2)^(1/2))`.

    Args:
        mu1, mu2: means, shape [dim].
        sigma1, sigma2: covariances, shape [dim, dim].

    Returns:
        A Python float (float64 math). Round-off can make it slightly negative (about
        -1e-10 relative) when the two distributions are identical.

    Example:
    >>> frechet_distance_from_stats([0.0, 0.0], np.eye(2), [3.0, 4.0], 4 * np.eye(2))
    27.0
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or mu1.ndim != 1:
        raise ValueError(
            f"`mu1` and `mu2` must be vectors of the same length. Received shapes "
            f"{mu1.shape} and {mu2.shape}."
        )
    dim = mu1.shape[0]
    for name, s in (("sigma1", sigma1), ("sigma2", sigma2)):
        if s.shape != (dim, dim):
            raise ValueError(f"`{name}` must have shape {(dim, dim)}. Received {s.shape}.")
    diff = mu1 - mu2
    return float(
        diff @ diff
        + np.trace(sigma1)
        + np.trace(sigma2)
        - 2.0 * trace_sqrt_product(sigma1, sigma2)
    )


def frechet_distance(activations_a, activations_b):
    """FID between two sets of features (e.g. pool activations), in float64.

    Args:
        activations_a: array [num_a, dim].
        activations_b: array [num_b, dim]; both sets need at least 2 samples.

    Returns:
        A Python float.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(5000, 4))
    >>> round(frechet_distance(a, a + 1.0), 6)   # only the means differ: 4 * 1^2
    4.0
    """
    a = GaussianStats().update(_as_features(activations_a, "activations_a"))
    b = GaussianStats().update(_as_features(activations_b, "activations_b"))
    return frechet_distance_from_stats(a.mean, a.covariance, b.mean, b.covariance)


class GaussianStats:
    """Running mean and covariance of features, accumulated batch by batch in float64.

    Memory is O(dim^2) whatever the number of samples: it keeps the count, the sum of
    `x - shift` and the sum of `(x - shift)(x - shift)^T`, where `shift` is the first
    batch's mean (which keeps the sums small and the covariance free of cancellation).
    The covariance is the unbiased one (divided by `count - 1`), as in TF-GAN and
    `numpy.cov`.
    """

    def __init__(self):
        self.count = 0
        self._shift = None
        self._sum = None
        self._outer = None

    def update(self, features):
        """Adds a batch of features [batch, dim]; returns self."""
        x = _as_features(features, "features")
        if x.shape[0] == 0:
            return self
        if self._shift is None:
            dim = x.shape[1]
            self._shift = x.mean(axis=0)
            self._sum = np.zeros(dim)
            self._outer = np.zeros((dim, dim))
        elif x.shape[1] != self._shift.shape[0]:
            raise ValueError(
                f"Feature dimension changed: had {self._shift.shape[0]}, received {x.shape[1]}."
            )
        x = x - self._shift
        self.count += x.shape[0]
        self._sum += x.sum(axis=0)
        self._outer += x.T @ x
        return self

    def _check(self):
        if self.count < 2:
            raise ValueError(
                f"A mean and covariance need at least 2 samples. Received {self.count}."
            )

    @property
    def mean(self):
        self._check()
        return self._shift + self._sum / self.count

    @property
    def covariance(self):
        self._check()
        centered_sum = self._sum / self.count
        return (self._outer - self.count * np.outer(centered_sum, centered_sum)) / (
            self.count - 1
        )

    def state(self):
        """The accumulated sums as a dict of arrays (for `np.savez`)."""
        return {"count": np.asarray(self.count), "shift": self._shift, "sum": self._sum,
                "outer": self._outer}

    @classmethod
    def from_state(cls, state):
        stats = cls()
        stats.count = int(state["count"])
        stats._shift, stats._sum, stats._outer = state["shift"], state["sum"], state["outer"]
        return stats


class StreamingFID:
    """FID accumulated batch by batch; `result()` equals `frechet_distance` on all batches.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8))
    >>> fid = StreamingFID()
    >>> for i in range(0, 1000, 100):
    ...     _ = fid.update_real(a[i:i + 100]).update_fake(b[i:i + 100])
    >>> bool(np.isclose(fid.result(), frechet_distance(a, b)))
    True
    """

    def __init__(self):
        self.real = GaussianStats()
        self.fake = GaussianStats()

    def update_real(self, features):
        self.real.update(features)
        return self

    def update_fake(self, features):
        self.fake.update(features)
        return self

    def result(self):
        return frechet_distance_from_stats(
            self.real.mean, self.real.covariance, self.fake.mean, self.fake.covariance
        )
