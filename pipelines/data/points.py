"""2-D toy data: the ring of 8 Gaussians (the unrolled-GAN paper's) and the 5 x 5 grid.

Batches are `points` float32 [batch, 2] (DESIGN.md, "Batches by family"), no labels. The
stream is infinite and fresh, as in the paper (a new sample every step): batch b is a pure
function of (seed, b), drawn with TensorFlow's stateless ops, so a seed reproduces a run
and a resumed run (which skips the batches it consumed) sees the batches it would have seen.

    dataset = points_dataset("ring_of_gaussians", batch_size=512, seed=0)
    centers, std = mixture("ring_of_gaussians")     # for tfgans.metrics.mode_coverage

Reference: Metz et al., "Unrolled Generative Adversarial Networks", appendix A (8 modes
on a circle of radius 2, standard deviation 0.02), https://arxiv.org/abs/1611.02163
"""

import tensorflow as tf

from tfgans.metrics import modes

from pipelines.data import common
from pipelines.data.common import DataError

#: name -> (centres function, standard deviation).
MIXTURES = {
    "ring_of_gaussians": (lambda: modes.ring_of_gaussians_centers(8, 2.0), 0.02),
    "grid_of_gaussians": (lambda: modes.grid_of_gaussians_centers(5, 2.0), 0.05),
}


def mixture(name):
    """(centres float64 [num_modes, 2], standard deviation) of dataset `name`."""
    if name not in MIXTURES:
        raise DataError(
            f"Unknown 2-D dataset {name!r}. Valid: {', '.join(sorted(MIXTURES))}.")
    centers, std = MIXTURES[name]
    return centers(), std


def reference_points(name, num_samples=2000, seed=0):
    """Real points of dataset `name` (NumPy float32 [num_samples, 2]): what scatter plots
    draw in grey."""
    centers, std = mixture(name)
    return modes.sample_mixture(centers, std, num_samples, seed)


def _batch(centers, std, batch_size, seed, index):
    key = tf.stack([tf.cast(seed, tf.int64), index])
    mode = tf.random.stateless_uniform(
        [batch_size], seed=key, minval=0, maxval=len(centers), dtype=tf.int32)
    noise = tf.random.stateless_normal(
        [batch_size, 2], seed=tf.random.experimental.stateless_fold_in(key, 1))
    return tf.gather(tf.constant(centers, tf.float32), mode) + std * noise


def points_dataset(name, batch_size, split="train", labels=False, seed=0, *,
                   image_size=None, input_context=None, **unused):
    """The infinite stream of batches of dataset `name` (`MIXTURES`).

    Args:
        name: "ring_of_gaussians" or "grid_of_gaussians".
        batch_size: points per batch (the GLOBAL batch under a strategy).
        split: "train" (the only one: the data is a distribution, not a set).
        labels: must be False (the modes are not labels).
        seed: batch b is a function of (seed, b).
        image_size: must be None.
        input_context: with several input pipelines, each keeps every n-th batch.
        **unused: the image pipelines' options (shuffle, cache, repeat, ...): a fresh
            stream needs none of them.

    Returns:
        A `tf.data.Dataset` of float32 [batch_size, 2], infinite.
    """
    common.check_batch_size(batch_size)
    centers, std = mixture(name)
    if split != "train":
        raise DataError(f"Dataset {name!r} has one split, 'train'. Received: split={split!r}")
    if labels:
        raise DataError(
            f"Dataset {name!r} has no labels (its batches are points [batch, 2]): set "
            "data.labels false.")
    if image_size is not None:
        raise DataError(
            f"Dataset {name!r} holds 2-D points, not images: remove data.image_size. "
            f"Received: image_size={image_size!r}")
    dataset = tf.data.Dataset.counter()
    if input_context is not None and input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    dataset = dataset.map(lambda b: _batch(centers, std, batch_size, seed, b))
    dataset = dataset.map(lambda x: tf.ensure_shape(x, [batch_size, 2]))
    return common.with_options(dataset.prefetch(common.AUTOTUNE))
