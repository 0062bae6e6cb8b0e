"""Semi-supervised batches: a few labelled examples and many unlabelled ones, mixed.

`labelled_subset` picks a seeded, balanced subset (`per_class` examples of every class);
`semi_supervised` turns images and labels into `(images, labels)` batches whose even
positions (0, 2, 4, ...) come from that subset (its labels kept) and whose odd positions
come from all the images (the subset included, as in Salimans et al.'s code) with label
-1, "unlabelled" (DESIGN.md's batch convention). So every batch is half labelled, and so
is every replica's contiguous slice of it when the per-replica batch is even: a run gives
the same result on 1 or N replicas.

Deterministic and resumable like the other pipelines: the subset is a function of
(labels, per_class, seed); each stream is shuffled with its own seed stream
(`pairs.side_seeds`), so rebuilding the pipeline and skipping the batches already
consumed (how the estimator resumes) gives the same batches as running on.

Reference: [Salimans et al., 2016](https://arxiv.org/abs/1606.03498) (section 5).
"""

import numpy as np
import tensorflow as tf

from pipelines.data import common
from pipelines.data.common import DataError
from pipelines.data.pairs import side_seeds

AUTOTUNE = common.AUTOTUNE
UNLABELLED = -1


def labelled_subset(labels, per_class, seed=0):
    """The indices of a balanced labelled subset: `per_class` examples of each class,
    drawn without replacement with a generator seeded by `seed` alone.

    Args:
        labels: int class ids [N] (>= 0).
        per_class: examples kept per class.
        seed: the same seed (and labels) gives the same subset.

    Returns:
        int64 indices [num_classes * per_class], sorted.

    Raises:
        DataError: a class with fewer than `per_class` examples, or a bad `per_class`.

    Example:
    >>> labelled_subset(np.array([0, 1, 0, 1, 0, 1]), 2, seed=0).size
    4
    """
    if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)) or (
            per_class < 1):
        raise DataError(f"`labeled_per_class` must be a positive integer. Received: {per_class!r}")
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng([int(seed), 0x55A9])
    picked = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise DataError(
                f"Class {c} has {len(members)} examples, fewer than labeled_per_class="
                f"{per_class}: lower data.labeled_per_class.")
        picked.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(picked)).astype(np.int64)


def semi_supervised(images, labels, per_class, batch_size, seed=0, *, shuffle=True,
                    shuffle_buffer=10_000, cache=True, repeat=False, image_size=None,
                    input_context=None):
    """`(images, labels)` batches, half from a labelled subset, half unlabelled (-1).

    Args:
        images: uint8 [N, H, W, C] (or float in [-1, 1]).
        labels: int class ids [N].
        per_class: labelled examples kept per class (`labelled_subset`).
        batch_size: examples per batch, even (half labelled).
        seed: the subset and both shuffles derive from it.
        shuffle, shuffle_buffer, cache, image_size: as in `common.finish` (the labelled
            stream is shuffled whole).
        repeat: repeat forever; otherwise one pass over the unlabelled images (the
            labelled stream cycles as long as it runs).
        input_context: must be None or a single input pipeline (the subset is global).

    Returns:
        A `tf.data.Dataset` of `(images float32 [B, H, W, C] in [-1, 1], labels int32
        [B])`, labels at the even positions, -1 at the odd ones; `drop_remainder=True`.

    Raises:
        DataError: an odd batch size, too few examples, or several input pipelines.
    """
    common.check_batch_size(batch_size)
    if batch_size % 2:
        raise DataError(f"`batch_size` must be even for semi-supervised batches (half "
                        f"labelled). Received: batch_size={batch_size}")
    if input_context is not None and input_context.num_input_pipelines > 1:
        raise DataError("Semi-supervised batches come from one input pipeline: the labelled "
                        "subset is global. Use the default (global batch) distribution.")
    half = batch_size // 2
    if len(images) < half:
        raise DataError(f"Got {len(images)} images, fewer than half a batch ({half}).")
    size = common.normalize_image_size(image_size)
    subset = labelled_subset(labels, per_class, seed)
    seeds = side_seeds(seed)

    def stream(x, y, seed, buffer, forever):
        dataset = tf.data.Dataset.from_tensor_slices((x, y))
        if size is not None:
            dataset = dataset.map(lambda a, b: (common.resize(a, size), b),
                                  num_parallel_calls=AUTOTUNE)
        if cache:
            dataset = dataset.cache()
        if shuffle:
            dataset = dataset.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
        if forever:
            dataset = dataset.repeat()
        return dataset.batch(half, drop_remainder=True)

    labelled = stream(images[subset], np.asarray(labels)[subset].astype(np.int32), seeds[0],
                      len(subset), True)
    unlabelled = stream(images, np.full(len(images), UNLABELLED, np.int32), seeds[1],
                        shuffle_buffer, repeat)

    def interleave(a, b):
        (xa, ya), (xb, yb) = a, b
        x = tf.stack([common.to_float(xa), common.to_float(xb)], axis=1)
        shape = tf.concat([[batch_size], tf.shape(x)[2:]], 0)
        return tf.reshape(x, shape), tf.reshape(tf.stack([ya, yb], axis=1), [batch_size])

    dataset = tf.data.Dataset.zip(labelled, unlabelled).map(interleave,
                                                            num_parallel_calls=AUTOTUNE)
    return common.with_options(dataset.prefetch(AUTOTUNE))


def fashion_mnist_semi_supervised(batch_size, split="train", labels=True, seed=0, *,
                                  labeled_per_class, source_dir=None, **pipeline_kwargs):
    """Fashion-MNIST's training images with `labeled_per_class` labels per class kept
    (`semi_supervised`), read from the original IDX files (`data.labeled_per_class`)."""
    from pipelines.data.fashion_tasks import fashion_arrays
    from pipelines.data.idx import FASHION_MNIST_DIR

    if split != "train" or not labels:
        raise DataError(
            "Semi-supervised Fashion-MNIST (labeled_per_class) is a training split with "
            f"labels: split 'train', labels true. Received: split={split!r}, labels={labels}")
    images, ids = fashion_arrays("train", source_dir or FASHION_MNIST_DIR)
    return semi_supervised(images, ids, labeled_per_class, batch_size, seed, **pipeline_kwargs)
