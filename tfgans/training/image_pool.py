"""The history of generated images a discriminator sees (Shrivastava et al. 2017), as
CycleGAN uses it: a pool of the last `size` generated images per discriminator.

For each generated image of a batch, in order: while the pool holds fewer than `size`
images, the image is stored and returned as is; once full, with probability 1/2 the image
is returned as is, and with probability 1/2 a stored image picked uniformly is returned and
the new image takes its place. The discriminator is updated on what is returned.

The draws are inputs (`coins`, `slots`), so the trainer draws them statelessly from
(seed, step) and a resumed run repeats them; the pool itself is trainer state.

Reference: [Zhu et al., 2017](https://arxiv.org/abs/1703.10593), section 4;
[Shrivastava et al., 2017](https://arxiv.org/abs/1612.07828), section 2.3.
"""

import tensorflow as tf


def query_pool(pool, count, images, coins, slots):
    """One batch through the history pool.

    Args:
        pool: float32 [size, H, W, C], the stored images (rows >= `count` unused).
        count: int32 scalar, the images stored so far (at most `size`).
        images: [B, H, W, C], the newly generated images, in order.
        coins: float32 [B] uniform in (0, 1): a full pool returns a stored image where the
            coin is above 0.5.
        slots: int32 [B] in [0, size): the stored image picked for each new image.

    Returns:
        (images to show the discriminator [B, H, W, C], the new pool, the new count).
    """
    size = pool.shape[0]
    images = tf.cast(images, pool.dtype)

    def body(i, pool, count, out):
        image = images[i]
        filling = count < size
        swap = tf.logical_and(tf.logical_not(filling), coins[i] > 0.5)
        slot = tf.where(filling, count, slots[i])
        shown = tf.where(swap, pool[slot], image)
        stored = tf.tensor_scatter_nd_update(pool, [[slot]], image[tf.newaxis])
        pool = tf.where(tf.logical_or(filling, swap), stored, pool)
        out = tf.tensor_scatter_nd_update(out, [[i]], shown[tf.newaxis])
        return i + 1, pool, tf.minimum(count + 1, size), out

    _, pool, count, out = tf.while_loop(
        lambda i, *_: i < tf.shape(images)[0], body,
        (tf.constant(0), pool, tf.cast(count, tf.int32), tf.zeros_like(images)))
    return out, pool, count
