"""Stateless, replica-independent random draws for training and generation.

Every draw is a pure function of (seed, step, stream): the whole global batch is drawn on
every replica and each replica keeps its own slice, so 1, 2 or N replicas see the same
numbers for the same global batch, and steps compile with XLA.

The floats are made from Philox' uint32 bits with our own conversion (uniform from the top
24 bits, normal by Box-Muller): TensorFlow's own float conversion differs between eager and
XLA, the bits do not, so the same seed gives the same noise with and without `jit_compile`.
"""

import math

import tensorflow as tf

_TWO_POW_M24 = 1.0 / (1 << 24)


def fold_seed(seed, *data):
    """Returns a Philox key [2] int64 derived from `seed` and the integers in `data`."""
    key = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    for d in data:
        key = tf.random.experimental.stateless_fold_in(key, tf.cast(d, tf.int64), alg="philox")
    return key


def uniform(shape, key):
    """Floats uniform in (0, 1), float32, a pure function of `key`."""
    bits = tf.random.stateless_uniform(
        shape, seed=key, minval=None, maxval=None, dtype=tf.uint32, alg="philox"
    )
    return (tf.cast(tf.bitwise.right_shift(bits, 8), tf.float32) + 0.5) * _TWO_POW_M24


def normal(shape, key):
    """Standard normal float32 draws (Box-Muller), a pure function of `key`.

    Row i of a draw of shape [n, d] does not depend on n, so a generator asked for 4 or 64
    samples from the same seed gives the same first 4.
    """
    # The pair of uniforms of each value is adjacent (last axis), so a prefix of rows is
    # drawn from a prefix of the Philox stream whatever the number of rows.
    u = uniform(list(shape) + [2], key)
    return tf.sqrt(-2.0 * tf.math.log(u[..., 0])) * tf.cos(2.0 * math.pi * u[..., 1])


def truncated_normal(shape, key, threshold):
    """Standard normal draws restricted to [-threshold, threshold] (BigGAN's truncation
    trick), float32, a pure function of `key`; `threshold` may be a tensor.

    Exact and without resampling: a uniform u in (0, 1) is mapped by the inverse CDF of
    the normal restricted to the interval,
    `z = sqrt(2) * erfinv((2u - 1) * erf(threshold / sqrt(2)))` (clipped to the interval
    against rounding). Row i of an [n, d] draw does not depend on n.

    Reference: [Brock et al., 2019](https://arxiv.org/abs/1809.11096), section 3.1.
    """
    threshold = tf.cast(threshold, tf.float32)
    u = uniform(shape, key)
    mass = tf.math.erf(threshold / math.sqrt(2.0))
    z = math.sqrt(2.0) * tf.math.erfinv((2.0 * u - 1.0) * mass)
    return tf.clip_by_value(z, -threshold, threshold)


def replica_slice(global_values, local_batch_size):
    """Returns this replica's rows of a tensor drawn for the whole global batch."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return global_values
    start = tf.cast(ctx.replica_id_in_sync_group, tf.int32) * local_batch_size
    return global_values[start : start + local_batch_size]


def num_replicas():
    """Replicas taking part in the current step (1 outside tf.distribute)."""
    ctx = tf.distribute.get_replica_context()
    return 1 if ctx is None else ctx.num_replicas_in_sync


def cross_replica_mean(x):
    """Mean of `x` over the replicas (identity on one replica), forward only.

    No gradient flows through it: a collective inside the backward pass can be ordered
    differently on different replicas than the optimizer's gradient all-reduce, and then
    the collectives mismatch. Trainers that need the gradient of a batch statistic use the
    surrogate in `GAN._batch_mean_loss` instead.
    """
    x = tf.stop_gradient(x)
    ctx = tf.distribute.get_replica_context()
    if ctx is not None and ctx.num_replicas_in_sync > 1:
        x = ctx.all_reduce(tf.distribute.ReduceOp.MEAN, x)
    return x
