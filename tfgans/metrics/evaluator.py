"""Streaming evaluation: images in, batch by batch; a dict of metrics out.

`Evaluator` runs a feature extractor on real and generated images as they arrive and keeps
what the metrics need:

- FID: running float64 sums (`GaussianStats`), over every sample; memory O(dim^2).
- KID, precision/recall and the Inception Score need the samples themselves: each side
  keeps at most `max_kept` rows of features and logits (default 10,000; a uniform
  reservoir sample, seeded, when more arrive). Memory: `max_kept * (dim + classes) * 4`
  bytes per side (5.5 MB for the Fashion-MNIST classifier, 120 MB for Inception).
- With labels (conditional models): per-class running sums for intra-class FID and, for
  generated images, per-class counts of the classifier agreeing with the requested class.

`evaluate(real, fake, num_samples)` does it in one call from arrays, `tf.data` datasets or
other iterables of batches, or a generator function.
"""

import numpy as np

from tfgans.metrics.extractors import get_extractor
from tfgans.metrics.frechet import GaussianStats, frechet_distance_from_stats
from tfgans.metrics.inception_score import inception_score
from tfgans.metrics.kid import kernel_inception_distance
from tfgans.metrics.precision_recall import precision_recall

__all__ = ["Evaluator", "FeatureSet", "evaluate"]


class FeatureSet:
    """Features (and logits, labels) of one side, accumulated batch by batch.

    Args:
        max_kept: at most this many rows of features/logits are kept (reservoir sample).
        seed: seed of the reservoir sampling.
    """

    def __init__(self, max_kept=10_000, seed=0):
        if max_kept < 1:
            raise ValueError(f"`max_kept` must be positive. Received `max_kept={max_kept}`.")
        self.max_kept = max_kept
        self.count = 0
        self.stats = GaussianStats()
        self.class_stats = {}  # label -> GaussianStats
        self.class_count = {}  # label -> samples
        self.class_correct = {}  # label -> samples whose argmax logit is the label
        self._rng = np.random.default_rng(seed)
        self._chunks = []  # (features, logits) while filling up
        self._kept = None  # (features, logits) once full

    def update(self, features, logits, labels=None):
        """Adds a batch: features [B, D], logits [B, C], optional int labels [B]."""
        features = np.asarray(features, np.float32)
        logits = np.asarray(logits, np.float32)
        self.stats.update(features)
        if labels is not None:
            labels = np.asarray(labels).reshape(-1).astype(np.int64)
            if len(labels) != len(features):
                raise ValueError(
                    f"Got {len(labels)} labels for {len(features)} images: pass one label "
                    "per image."
                )
            correct = np.argmax(logits, axis=1) == labels
            for c in np.unique(labels):
                c, mask = int(c), labels == c
                self.class_stats.setdefault(c, GaussianStats()).update(features[mask])
                self.class_count[c] = self.class_count.get(c, 0) + int(mask.sum())
                self.class_correct[c] = self.class_correct.get(c, 0) + int(correct[mask].sum())
        self._keep(features, logits)
        self.count += len(features)
        return self

    def _keep(self, features, logits):
        filled = min(self.count, self.max_kept)
        take = max(0, min(self.max_kept - filled, len(features)))
        if take:
            self._chunks.append((features[:take], logits[:take]))
        if self.count + len(features) <= self.max_kept:
            return
        kept_f, kept_l = self._consolidate()
        # Reservoir sampling (Algorithm R): row i of the stream replaces a kept row with
        # probability max_kept / (i + 1).
        stream_index = self.count + np.arange(take, len(features))
        slots = self._rng.integers(0, stream_index + 1)
        for row, slot in zip(np.arange(take, len(features)), slots):
            if slot < self.max_kept:
                kept_f[slot], kept_l[slot] = features[row], logits[row]

    def _consolidate(self):
        if self._kept is None or self._chunks:
            parts = ([self._kept] if self._kept is not None else []) + self._chunks
            self._kept = (
                np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]),
            )
            self._chunks = []
        return self._kept

    @property
    def features(self):
        """The kept features, float32 [min(count, max_kept), D]."""
        return self._consolidate()[0] if self.count else np.zeros((0, 0), np.float32)

    @property
    def logits(self):
        """The kept logits (same rows as `features`), float32 [min(count, max_kept), C]."""
        return self._consolidate()[1] if self.count else np.zeros((0, 0), np.float32)


class Evaluator:
    """Computes FID, KID, Inception Score and precision/recall, streaming.

    Feed real and generated images in [-1, 1] (NHWC, any batch size) with `update_real` /
    `update_fake`, or whole sources with `update_real_from` / `update_fake_from`; `result()`
    returns a dict of Python numbers. Pass labels on both sides (true labels for real
    images, requested labels for generated ones) to get intra-class FID and class accuracy.
    During training, compute the real side once and call `reset_fake()` before each
    evaluation.

    Args:
        extractor: a `FeatureExtractor`, or a registered name: "fashion_mnist" (default,
            the committed classifier) or "inception".
        max_kept: rows of features/logits kept per side for KID, IS, precision/recall.
        kid_subset_size, kid_num_subsets: KID subsets (each side needs `kid_subset_size`
            kept samples).
        inception_score_splits: splits of the Inception Score.
        precision_recall_k: k of the k-NN manifolds.
        seed: seeds the reservoir sampling and the KID subsets.

    Example:
    >>> evaluator = Evaluator("fashion_mnist", kid_subset_size=50, kid_num_subsets=5)
    >>> rng = np.random.default_rng(0)
    >>> images = rng.uniform(-1, 1, size=(100, 28, 28, 1)).astype("float32")
    >>> _ = evaluator.update_real(images).update_fake(images)
    >>> sorted(evaluator.result())[:4]
    ['fid', 'inception_score', 'inception_score_std', 'kid']
    """

    def __init__(
        self,
        extractor="fashion_mnist",
        max_kept=10_000,
        kid_subset_size=1000,
        kid_num_subsets=100,
        inception_score_splits=10,
        precision_recall_k=3,
        seed=0,
    ):
        if kid_subset_size > max_kept:
            raise ValueError(
                f"`kid_subset_size={kid_subset_size}` is larger than `max_kept={max_kept}`: "
                "KID could never be computed. Lower `kid_subset_size` or raise `max_kept`."
            )
        self.extractor = get_extractor(extractor)
        self.max_kept = max_kept
        self.kid_subset_size = kid_subset_size
        self.kid_num_subsets = kid_num_subsets
        self.inception_score_splits = inception_score_splits
        self.precision_recall_k = precision_recall_k
        self.seed = seed
        self.real = FeatureSet(max_kept, seed)
        self.fake = FeatureSet(max_kept, seed + 1)

    def reset_fake(self):
        """Forgets the generated side (keeps the real one)."""
        self.fake = FeatureSet(self.max_kept, self.seed + 1)

    def update_real(self, images, labels=None):
        """Adds a batch of real images in [-1, 1] (and their labels); returns self."""
        self.real.update(*self.extractor.features_and_logits(images), labels)
        return self

    def update_fake(self, images, labels=None):
        """Adds a batch of generated images in [-1, 1] (and requested labels); returns self."""
        self.fake.update(*self.extractor.features_and_logits(images), labels)
        return self

    def update_real_from(self, source, num_samples=None, batch_size=500, progress=False):
        """Adds real images from `source` (see `iterate_batches`); returns self."""
        for images, labels in iterate_batches(source, num_samples, batch_size, progress):
            self.update_real(images, labels)
        return self

    def update_fake_from(self, source, num_samples=None, batch_size=500, progress=False):
        """Adds generated images from `source` (see `iterate_batches`); returns self."""
        for images, labels in iterate_batches(source, num_samples, batch_size, progress):
            self.update_fake(images, labels)
        return self

    def result(self, per_class=False):
        """The metrics as a dict of Python numbers.

        Keys: `fid`, `kid`, `kid_std`, `inception_score`, `inception_score_std` (of the
        generated images), `precision`, `recall`, `num_real`, `num_fake`; with labels on
        both sides also `intra_fid` (mean FID over the generated classes that have real
        samples) and
        `class_accuracy` (how often the classifier finds the requested class), and with
        `per_class=True` their values per class as `intra_fid/<c>`, `class_accuracy/<c>`.

        Raises:
            ValueError: too few samples (2 for FID, `kid_subset_size` for KID).
        """
        real, fake = self.real, self.fake
        fid = frechet_distance_from_stats(
            real.stats.mean, real.stats.covariance, fake.stats.mean, fake.stats.covariance
        )
        num_kept = min(len(real.features), len(fake.features))
        if num_kept < self.kid_subset_size:
            raise ValueError(
                f"KID needs `kid_subset_size={self.kid_subset_size}` samples on each side; "
                f"got {real.count} real and {fake.count} generated: evaluate more samples "
                "or pass a smaller `kid_subset_size`."
            )
        kid, kid_std = kernel_inception_distance(
            real.features, fake.features, self.kid_subset_size, self.kid_num_subsets, self.seed
        )
        score, score_std = inception_score(fake.logits, self.inception_score_splits)
        precision, recall = precision_recall(
            real.features, fake.features, self.precision_recall_k
        )
        result = {
            "fid": fid,
            "kid": kid,
            "kid_std": kid_std,
            "inception_score": score,
            "inception_score_std": score_std,
            "precision": precision,
            "recall": recall,
            "num_real": real.count,
            "num_fake": fake.count,
        }
        if fake.class_stats:
            result.update(self._conditional(per_class))
        return result

    def _conditional(self, per_class):
        real, fake = self.real, self.fake
        result, fids = {}, []
        classes = sorted(fake.class_stats)
        for c in classes:
            if real.class_stats.get(c, GaussianStats()).count < 2 or fake.class_stats[c].count < 2:
                continue
            r, f = real.class_stats[c], fake.class_stats[c]
            fids.append(frechet_distance_from_stats(r.mean, r.covariance, f.mean, f.covariance))
            if per_class:
                result[f"intra_fid/{c}"] = fids[-1]
        if fids:
            result["intra_fid"] = float(np.mean(fids))
        result["class_accuracy"] = sum(fake.class_correct.values()) / fake.count
        if per_class:
            for c in classes:
                result[f"class_accuracy/{c}"] = fake.class_correct[c] / fake.class_count[c]
        return result


def iterate_batches(source, num_samples=None, batch_size=500, progress=False):
    """Yields (images, labels or None) batches from `source`, up to `num_samples` images.

    `source` is one of:
    - an array or tensor of images [N, H, W, C], or a tuple `(images, labels)` of them;
    - an iterable of batches (a `tf.data.Dataset`, a list, a Python generator), each batch
      `images` or `(images, labels)` (`(images, text)` with string text: images alone);
    - a function `fn(n)` returning `n` images or `(images, labels)` (a generator model's
      sampling function); `num_samples` is then required.

    With `progress=True` a Keras progress bar counts the images.
    """
    if callable(source) and not hasattr(source, "shape"):
        if num_samples is None:
            raise ValueError("`num_samples` is required when the source is a function.")
        batches = _from_function(source, num_samples, batch_size)
    elif _is_images(source) or (
        isinstance(source, tuple) and len(source) == 2 and _is_images(source[0])
    ):
        batches = _from_arrays(*(source if isinstance(source, tuple) else (source, None)),
                               num_samples, batch_size)
    else:
        batches = (_split(batch) for batch in source)
    bar = None
    if progress:
        import keras

        bar = keras.utils.Progbar(num_samples, unit_name="image")
    seen = 0
    for images, labels in batches:
        if num_samples is not None and seen + len(images) > num_samples:
            keep = num_samples - seen
            images, labels = images[:keep], None if labels is None else labels[:keep]
        seen += len(images)
        if bar is not None:
            bar.update(seen)
        yield images, labels
        if num_samples is not None and seen >= num_samples:
            return
    if num_samples is not None and seen < num_samples:
        raise ValueError(f"The source ran out after {seen} of `num_samples={num_samples}` images.")


def _is_images(x):
    return hasattr(x, "shape") and len(x.shape) == 4


def _split(batch):
    """(images, labels or None) of a batch; an `(images, text)` batch (text -> image data)
    has no class labels."""
    if isinstance(batch, (tuple, list)):
        if len(batch) < 2 or _is_text(batch[1]):
            return batch[0], None
        return batch[0], batch[1]
    return batch, None


def _is_text(x):
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return False
    if dtype == "string" or getattr(dtype, "kind", None) in ("S", "U"):
        return True
    flat = np.ravel(x) if getattr(dtype, "kind", None) == "O" else ()
    return len(flat) > 0 and isinstance(flat[0], (str, bytes))


def _from_arrays(images, labels, num_samples, batch_size):
    end = len(images) if num_samples is None else min(num_samples, len(images))
    for start in range(0, end, batch_size):
        stop = min(start + batch_size, end)
        yield images[start:stop], None if labels is None else labels[start:stop]


def _from_function(fn, num_samples, batch_size):
    done = 0
    while done < num_samples:
        n = min(batch_size, num_samples - done)
        images, labels = _split(fn(n))
        if len(images) != n:
            raise ValueError(f"The sampling function returned {len(images)} images for n={n}.")
        done += n
        yield images, labels


def evaluate(real, fake, num_samples=None, extractor="fashion_mnist", batch_size=500,
             progress=False, per_class=False, **evaluator_kwargs):
    """Evaluates generated images against real ones; returns `Evaluator.result()`.

    Args:
        real, fake: image sources (see `iterate_batches`): arrays, `(images, labels)`,
            datasets or iterables of batches, or sampling functions `fn(n)`.
        num_samples: images taken from each source (None: all of an array or iterable).
        extractor: a `FeatureExtractor` or a registered name.
        batch_size: images per batch drawn from arrays and functions.
        progress: show a progress bar while features are extracted.
        per_class: add per-class values (see `Evaluator.result`).
        **evaluator_kwargs: `max_kept`, `kid_subset_size`, ... (see `Evaluator`).

    Example:
    >>> rng = np.random.default_rng(0)
    >>> images = rng.uniform(-1, 1, size=(100, 28, 28, 1)).astype("float32")
    >>> metrics = evaluate(images, lambda n: images[:n], num_samples=100, kid_subset_size=50)
    >>> abs(metrics["fid"]) < 1e-6
    True
    """
    evaluator = Evaluator(extractor, **evaluator_kwargs)
    evaluator.update_real_from(real, num_samples, batch_size, progress)
    evaluator.update_fake_from(fake, num_samples, batch_size, progress)
    return evaluator.result(per_class=per_class)
