"""The part the image -> image pipelines share: shard, cache, shuffle, repeat, batch.

Paired sources give a dataset of `(index, images)`: `index` int64, the example's position
in the source (before any shuffle), `images` a tuple of uint8 [H, W, C] images (source and
target, or one image the batch is derived from). `finish_paired` batches them into
`(source, target)` (or `(source, target, mask)`) float32 NHWC in [-1, 1].

Unpaired sources give two datasets of uint8 images, side A and side B; `finish_unpaired`
shuffles each with its own seed stream, repeats each, and zips them into `(a, b)`
batches.

Everything random is a function of (seed, example index, epoch) or of a seeded shuffle, so
rebuilding a pipeline with the same seed and skipping the batches already consumed (how
`tfgans.GANEstimator` resumes) gives the same batches as running on.
"""

import math

import numpy as np
import tensorflow as tf

from pipelines.data import common
from pipelines.data.common import DataError

AUTOTUNE = common.AUTOTUNE


def check_no_labels(name, labels):
    """Raises `DataError` when labels are asked of an image -> image dataset."""
    if labels:
        raise DataError(
            f"Dataset {name!r} yields image -> image batches, without class labels: set "
            "data.labels to false."
        )


def side_seeds(seed, count=2):
    """`count` independent 31-bit shuffle seeds derived from `seed` (one per side)."""
    state = np.random.SeedSequence([int(seed), 0x7A1B]).generate_state(count)
    return [int(s) & 0x7FFFFFFF for s in state]


def example_key(seed, index, epoch):
    """A stateless RNG seed (int64 [2]) for one example in one epoch.

    Use with `tf.random.stateless_*` ops: the same (seed, index, epoch) always gives the
    same draw, whatever the shuffle order, the replica or the point of resume.
    """
    key = tf.constant([seed, 0x5EED], tf.int64)
    key = tf.random.experimental.stateless_fold_in(key, tf.cast(index, tf.int64))
    return tf.random.experimental.stateless_fold_in(key, tf.cast(epoch, tf.int64))


def _shard(dataset, input_context):
    if input_context is not None and input_context.num_input_pipelines > 1:
        return dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    return dataset


def _cache_and_shuffle(dataset, load, cache, shuffle, shuffle_buffer, seed):
    """Loads (`load`: element -> element), caches and shuffles; loads after the shuffle
    when not caching, so only the elements consumed are decoded."""
    if load is not None and cache:
        dataset = dataset.map(load, num_parallel_calls=AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if load is not None and not cache:
        dataset = dataset.map(load, num_parallel_calls=AUTOTUNE)
    return dataset


def _to_float_all(*images):
    return tuple(common.to_float(x) for x in images)


def finish_paired(
    dataset,
    *,
    num_examples,
    batch_size,
    seed=0,
    load_fn=None,
    example_fn=None,
    batch_fn=None,
    shuffle=True,
    shuffle_buffer=10_000,
    cache=True,
    repeat=False,
    input_context=None,
):
    """Turns a dataset of `(index, images)` into paired training batches.

    Args:
        dataset: `tf.data.Dataset` of `(index, images)`: index int64 scalar, images a tuple
            of uint8 [H, W, C] images (or what `load_fn` turns into them).
        num_examples: examples in `dataset` (before sharding): epochs are counted with it.
        batch_size: examples per batch (global, as in `common.finish`).
        seed: shuffle seed.
        load_fn: None, or `load_fn(raw)` -> images tuple (e.g. reads and decodes a file
            name): run before the cache when `cache` is True, after the shuffle otherwise
            (so only the images a batch needs are decoded).
        example_fn: None, or `example_fn(index, epoch, *images)` -> tuple of tensors, run
            per example after the shuffle (e.g. draws an inpainting mask keyed by
            `example_key(seed, index, epoch)`); `epoch` counts passes over the data when
            `repeat` is True and is 0 otherwise.
        batch_fn: None (each uint8 image -> float32 in [-1, 1]) or `batch_fn(*batch)` ->
            the batch tuple, run on whole batches (edge maps, downsampling).
        shuffle, shuffle_buffer, cache, repeat, input_context: as in `common.finish`.

    Returns:
        A `tf.data.Dataset` of tuples, batched with `drop_remainder=True`, prefetched.
    """
    common.check_batch_size(batch_size)
    dataset = _shard(dataset, input_context)
    load = None if load_fn is None else (lambda index, raw: (index, load_fn(raw)))
    dataset = _cache_and_shuffle(dataset, load, cache, shuffle, shuffle_buffer, seed)
    if repeat:
        dataset = dataset.repeat()
    shard_size = num_examples
    if input_context is not None and input_context.num_input_pipelines > 1:
        shard_size = len(range(input_context.input_pipeline_id, num_examples,
                               input_context.num_input_pipelines))
    shard_size = max(shard_size, 1)
    if example_fn is not None:
        # The position in the stream counts epochs; skipping (resume) recounts it exactly.
        def per_example(position, element):
            index, images = element
            return example_fn(index, position // shard_size, *images)

        dataset = dataset.enumerate().map(per_example, num_parallel_calls=AUTOTUNE)
    else:
        dataset = dataset.map(lambda index, images: images, num_parallel_calls=AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=True, num_parallel_calls=AUTOTUNE)
    dataset = dataset.map(batch_fn or _to_float_all, num_parallel_calls=AUTOTUNE)
    return common.with_options(dataset.prefetch(AUTOTUNE))


def finish_unpaired(
    side_a,
    side_b,
    *,
    sizes,
    load_fns=(None, None),
    batch_size,
    seed=0,
    shuffle=True,
    shuffle_buffer=10_000,
    cache=True,
    repeat=False,
    input_context=None,
):
    """Zips two datasets of uint8 images into `(a, b)` batches.

    Each side is shuffled with its own seed (from `side_seeds(seed)`) and repeated on its
    own, so sides of different sizes pair up differently every epoch. One epoch is
    `ceil(max(len(a), len(b)) / batch_size)` batches: every image of both sides at least
    once (the smaller side cycles; the last batch runs into the next pass). `repeat=True`
    gives an endless dataset.

    Args:
        side_a, side_b: `tf.data.Dataset`s of uint8 [H, W, C] images.
        sizes: (len(side_a), len(side_b)), before sharding.
        load_fns: per side, None or a function turning an element into a uint8 image (as
            `load_fn` in `finish_paired`).
        batch_size, seed, shuffle, shuffle_buffer, cache, repeat, input_context: as in
            `common.finish`.

    Returns:
        A `tf.data.Dataset` of `(a, b)`, float32 [batch, H, W, C] in [-1, 1] each.
    """
    common.check_batch_size(batch_size)
    sides = []
    shard_sizes = []
    for side, size, load_fn, side_seed in zip(
        (side_a, side_b), sizes, load_fns, side_seeds(seed)
    ):
        side = _shard(side, input_context)
        if input_context is not None and input_context.num_input_pipelines > 1:
            size = len(range(input_context.input_pipeline_id, size,
                             input_context.num_input_pipelines))
        side = _cache_and_shuffle(side, load_fn, cache, shuffle, shuffle_buffer, side_seed)
        sides.append(side.repeat())
        shard_sizes.append(size)
    if min(shard_sizes) == 0:
        raise DataError(
            f"An unpaired side is empty on input pipeline {input_context.input_pipeline_id}: "
            "use fewer input pipelines or more images."
        )
    dataset = tf.data.Dataset.zip(sides[0], sides[1])
    if not repeat:
        batches = math.ceil(max(shard_sizes) / batch_size)
        dataset = dataset.take(batches * batch_size)
    dataset = dataset.batch(batch_size, drop_remainder=True, num_parallel_calls=AUTOTUNE)
    dataset = dataset.map(_to_float_all, num_parallel_calls=AUTOTUNE)
    return common.with_options(dataset.prefetch(AUTOTUNE))
