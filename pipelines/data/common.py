"""The part every input pipeline shares: resize, cache, shuffle, batch, scale, prefetch.

Sources (TFDS, image folders, arrays) produce a dataset of `(image, label)` pairs, image
uint8 [H, W, C] (or float32 already in [-1, 1]) and label int32 (-1 when the source has no
labels); `finish` turns it into training batches: float32 NHWC in [-1, 1], or
`(images, labels)` with int32 labels [batch], batched with `drop_remainder=True`.
"""

import numpy as np
import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


class DataError(ValueError):
    """Bad input to a pipeline: a missing or empty folder, unreadable image, bad argument.

    The message is one line saying what is wrong and how to fix it.
    """


def check_batch_size(batch_size):
    """Raises `DataError` unless `batch_size` is a positive int."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise DataError(
            f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}"
        )


def normalize_image_size(image_size):
    """Returns `image_size` (None, an int or a (height, width) pair) as None or (h, w)."""
    if image_size is None:
        return None
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        size = (image_size, image_size)
    elif isinstance(image_size, (tuple, list)) and len(image_size) == 2:
        size = tuple(image_size)
    else:
        size = None
    if size is None or any(isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in size):
        raise DataError(
            "`image_size` must be None, a positive int or a (height, width) pair of positive "
            f"ints. Received: image_size={image_size!r}"
        )
    return size


def resize(image, size):
    """Resizes one uint8 (or float) image to `size` (h, w), keeping its dtype."""
    resized = tf.image.resize(image, size, method="bilinear", antialias=True)
    if image.dtype == tf.uint8:
        return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)
    return tf.cast(resized, image.dtype)


def to_float(images):
    """Maps uint8 [0, 255] to float32 [-1, 1] (0 -> -1.0, 255 -> 1.0 exactly).

    Float inputs are taken to be in [-1, 1] already and are only cast to float32.
    """
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 127.5 - 1.0
    return tf.cast(images, tf.float32)


def with_options(dataset):
    """Sets the options every tfgans pipeline uses.

    Deterministic element order (so a seed reproduces a run), and DATA auto-sharding: when
    `strategy.experimental_distribute_dataset` spreads a dataset over several workers, each
    worker keeps its own slice of every global batch (FILE sharding would need at least as
    many files as workers, which TFDS' small datasets do not have).
    """
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def subset_mask(count, size, seed=0):
    """Which of `count` examples a seeded subset of `size` keeps: a bool array [count].

    The examples are chosen by `numpy.random.default_rng(seed)` over the source's indices,
    so a seed always picks the same examples of a source, whatever the batch size or the
    training seed (data-limited training: `data.subset_size`, `data.subset_seed`).

    Raises:
        DataError: `size` is not a positive integer, `seed` not an integer >= 0, or the
            source holds fewer than `size` examples (`count`).
    """
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise DataError(f"`subset_size` must be a positive integer. Received: subset_size={size!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DataError(f"`subset_seed` must be an integer >= 0. Received: subset_seed={seed!r}")
    if size > count:
        raise DataError(
            f"subset_size={size} is more than the {count} examples of the dataset: use at most "
            f"{count} (data.subset_size), or null for all of them."
        )
    keep = np.zeros(count, bool)
    keep[np.random.default_rng(seed).choice(count, size, replace=False)] = True
    return keep


def take_subset(dataset, size, seed=0):
    """The seeded subset (`subset_mask`) of a finite dataset's examples, in its order.

    Raises:
        DataError: see `subset_mask`; also a dataset whose size is unknown.
    """
    count = int(dataset.cardinality())
    if count < 0:
        raise DataError(
            f"subset_size={size} needs a dataset whose size is known, and this one's is not: "
            "remove data.subset_size, or use fashion_mnist, image_folder or a TFDS dataset."
        )
    keep = tf.constant(subset_mask(count, size, seed))
    subset = dataset.enumerate().filter(lambda i, _: tf.gather(keep, i))
    subset = subset.map(lambda _, example: example)
    return subset.apply(tf.data.experimental.assert_cardinality(size))


def finish(
    dataset,
    *,
    batch_size,
    labels,
    seed=0,
    subset_size=None,
    subset_seed=0,
    shuffle=True,
    shuffle_buffer=10_000,
    cache=True,
    repeat=False,
    image_size=None,
    input_context=None,
):
    """Turns a dataset of `(image, label)` pairs into a training pipeline.

    Args:
        dataset: `tf.data.Dataset` of `(image, label)`; image uint8 [H, W, C] (or float in
            [-1, 1]), label int32 scalar.
        batch_size: images per batch: the GLOBAL batch size when the dataset is handed to
            `strategy.experimental_distribute_dataset`, the per-replica one inside
            `strategy.distribute_datasets_from_function`.
        labels: yield `(images, labels)` when True, `images` alone when False.
        seed: shuffle seed; the same seed gives the same sequence of batches.
        subset_size: None, or train on a random subset of this many examples
            (`take_subset`, seeded with `subset_seed`), chosen before anything else.
        subset_seed: the seed that picks the subset.
        shuffle: shuffle (with `reshuffle_each_iteration`); False keeps the source order.
        shuffle_buffer: size of the shuffle buffer, in examples.
        cache: keep decoded examples in memory after the first pass.
        repeat: repeat forever (batches then run across epoch boundaries).
        image_size: None, int or (h, w): resize every image to this size.
        input_context: a `tf.distribute.InputContext`; when given, this pipeline keeps only
            its shard, `shard(num_input_pipelines, input_pipeline_id)`, of the examples.

    Returns:
        A `tf.data.Dataset` of float32 [batch, H, W, C] images in [-1, 1], or of
        `(images, labels)` with int32 labels [batch]. Its iterator can be saved with
        `tf.train.Checkpoint(iterator=...)` and resumes exactly; the checkpoint then holds
        the shuffle buffer and the in-memory cache (about 8 and 47 MB for Fashion-MNIST):
        for large image folders pass `cache=False`.
    """
    check_batch_size(batch_size)
    size = normalize_image_size(image_size)
    if subset_size is not None:
        dataset = take_subset(dataset, subset_size, subset_seed)
    if input_context is not None and input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    count = int(dataset.cardinality())
    if 0 <= count < batch_size:  # a batch would repeat examples (and may not fit in memory)
        raise DataError(
            f"The dataset holds {count} examples, fewer than batch_size={batch_size}: use "
            f"a batch size of at most {count} (data.batch_size)."
        )
    if size is not None:
        dataset = dataset.map(lambda x, y: (resize(x, size), y), num_parallel_calls=AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=True, num_parallel_calls=AUTOTUNE)
    if labels:
        dataset = dataset.map(lambda x, y: (to_float(x), y), num_parallel_calls=AUTOTUNE)
    else:
        dataset = dataset.map(lambda x, y: to_float(x), num_parallel_calls=AUTOTUNE)
    return with_options(dataset.prefetch(AUTOTUNE))
