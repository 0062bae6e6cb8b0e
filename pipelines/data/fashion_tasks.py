"""Image -> image tasks built from Fashion-MNIST, so every family trains and tests offline.

Read straight from the original IDX files (`idx.load_fashion_mnist_arrays`; Debian's
`dataset-fashion-mnist`), split "train" (60,000 images) or "test" (10,000, for held-out
evaluation). Images are 28x28x1 unless `image_size` resizes them.

- `edges2fashion` (paired): source = binary edge map, target = the garment.
- `fashion_x4` (paired): source = the garment downsampled x4 by area averaging (7x7 for
  28x28), target = the garment: the source is 4 times smaller than the target.
- `fashion_inpaint` (paired, with masks): `(source, target, mask)`, mask 1 = a missing
  pixel; source = target with the hole set to `INPAINT_FILL` (0.0, mid-grey).
- `sneaker2boot` (unpaired): `(a, b)`, A = sneakers (class 7), B = ankle boots (class 9).

Deterministic: the shuffle is seeded and every random mask is a stateless function of
(seed, example index, epoch), so the same seed gives the same batches and a rebuilt
pipeline that skips the batches already consumed resumes exactly.
"""

import functools
import math

import numpy as np
import tensorflow as tf

from pipelines.data import common, pairs
from pipelines.data.common import DataError
from pipelines.data.idx import FASHION_MNIST_DIR, load_fashion_mnist_arrays

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
SNEAKER, ANKLE_BOOT = 7, 9
SNEAKER2BOOT_CLASSES = (SNEAKER, ANKLE_BOOT)  # class ids of side A and side B
EDGE_THRESHOLD = 1.0
SCALE = 4  # fashion_x4's downsampling factor
INPAINT_FILL = 0.0
MASKS = ("center", "random", "free_form")
SPLITS = ("train", "test")


@functools.lru_cache(maxsize=2)
def _arrays(split, source_dir):
    try:
        images, labels = load_fashion_mnist_arrays(split, source_dir)
    except OSError as e:  # FileNotFoundError: the message says how to install the files
        raise DataError(" ".join(str(e).split())) from e
    except ValueError as e:  # read_idx: not an IDX file, truncated
        raise DataError(f"{e} Reinstall dataset-fashion-mnist or fix source_dir.") from e
    images.setflags(write=False)
    labels.setflags(write=False)
    return images[..., np.newaxis], labels


def fashion_arrays(split="train", source_dir=FASHION_MNIST_DIR):
    """Fashion-MNIST as (images uint8 [N, 28, 28, 1], labels int32 [N]), read-only.

    Raises:
        DataError: an unknown split, or the IDX files are missing or corrupt.
    """
    if split not in SPLITS:
        raise DataError(
            f"Unknown split {split!r} for a Fashion-MNIST task. Valid splits: train, test."
        )
    return _arrays(split, source_dir)


def _size(image_size, multiple=1):
    size = common.normalize_image_size(image_size) or (28, 28)
    if size[0] % multiple or size[1] % multiple:
        raise DataError(
            f"`image_size` must be a multiple of {multiple} for this task. "
            f"Received: image_size={image_size!r}"
        )
    return size


def _source(images, size):
    """(index, (image,)) over `images`, resized to `size` when it is not 28x28."""
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(images)), images))
    if size != (28, 28):
        dataset = dataset.map(
            lambda i, x: (i, common.resize(x, size)), num_parallel_calls=common.AUTOTUNE
        )
    return dataset.map(lambda i, x: (i, (x,)))


def _check_enough(split, count, batch_size):
    if count < batch_size:
        raise DataError(
            f"Split {split!r} holds {count} examples, fewer than batch_size={batch_size}."
        )


# ----------------------------------------------------------------- image operations


def edge_map(images, threshold=EDGE_THRESHOLD):
    """Binary edges: 1.0 where the Sobel gradient magnitude exceeds `threshold`, else -1.0.

    Args:
        images: float32 [B, H, W, 1] in [-1, 1] (or uint8 [0, 255]).
        threshold: on the gradient magnitude of intensities in [0, 1] (the largest
            possible is 4 * sqrt(2)); 1.0 keeps garment outlines and strong folds.

    Returns:
        float32 [B, H, W, 1]: white (1.0) edges on black (-1.0).
    """
    unit = (common.to_float(images) + 1.0) / 2.0
    gradients = tf.image.sobel_edges(unit)  # [B, H, W, 1, 2], reflect-padded
    magnitude = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=-1))
    return tf.where(magnitude > threshold, 1.0, -1.0)


def area_downsample(images, factor=SCALE):
    """Averages each `factor` x `factor` block: [B, H, W, C] -> [B, H/f, W/f, C]."""
    return tf.nn.avg_pool2d(images, factor, factor, "VALID")


def center_mask(height, width):
    """The centred (height/2) x (width/2) square (14x14 at 28x28): float32 [H, W, 1]
    (`tfgans.models.inpainting.center_mask`, the mask inpainting exports use)."""
    from tfgans.models.inpainting import center_mask as mask

    return tf.constant(mask(height, width))


def _grid(height, width):
    rows = tf.cast(tf.range(height), tf.float32)[:, tf.newaxis]
    cols = tf.cast(tf.range(width), tf.float32)[tf.newaxis, :]
    return rows, cols


def random_rectangle_mask(key, height, width):
    """One random rectangle, sides in [H/4, H/2] x [W/4, W/2], anywhere in the image.

    Args:
        key: stateless RNG seed, int64 [2] (`pairs.example_key`).

    Returns:
        float32 [H, W, 1], 1 inside the rectangle.
    """
    u = tf.random.stateless_uniform([4], seed=key)
    low_h, low_w = height // 4, width // 4
    h = low_h + tf.floor(u[0] * (height // 2 - low_h + 1))
    w = low_w + tf.floor(u[1] * (width // 2 - low_w + 1))
    top = tf.floor(u[2] * (height - h + 1))
    left = tf.floor(u[3] * (width - w + 1))
    rows, cols = _grid(height, width)
    inside = (rows >= top) & (rows < top + h) & (cols >= left) & (cols < left + w)
    return tf.cast(inside, tf.float32)[..., tf.newaxis]


def free_form_mask(key, height, width, max_strokes=3, segments=4):
    """1 to `max_strokes` thick random strokes (polylines of `segments` segments).

    Each stroke starts inside the central 70% of the image and turns by up to 90 degrees
    per segment; segments are H/8 to H/4 long and 1/28 to 2.5/28 of H thick (radius).

    Args:
        key: stateless RNG seed, int64 [2].

    Returns:
        float32 [H, W, 1], 1 on the strokes.
    """
    scale = float(max(height, width))
    u = tf.random.stateless_uniform([max_strokes, segments + 5], seed=key)
    count_key = tf.random.experimental.stateless_fold_in(key, 1)
    count = 1 + tf.floor(tf.random.stateless_uniform([], seed=count_key) * max_strokes)
    active = tf.range(max_strokes, dtype=tf.float32) < count  # [S]
    start = tf.stack([(0.15 + 0.7 * u[:, 0]) * height, (0.15 + 0.7 * u[:, 1]) * width], -1)
    radius = scale / 28.0 * (1.0 + 1.5 * u[:, 2])  # [S]
    length = scale * (0.125 + 0.125 * u[:, 3])  # [S]
    turns = (u[:, 5:] - 0.5) * math.pi  # [S, segments], up to +-90 degrees
    angles = 2.0 * math.pi * u[:, 4:5] + tf.cumsum(turns, axis=1)
    steps = tf.stack([tf.sin(angles), tf.cos(angles)], -1) * length[:, None, None]
    points = tf.concat([start[:, None], start[:, None] + tf.cumsum(steps, axis=1)], axis=1)
    p, q = points[:, :-1], points[:, 1:]  # segment ends, [S, segments, 2]
    rows, cols = _grid(height, width)
    shape = [height, width]
    pixel = tf.stack([tf.broadcast_to(rows, shape), tf.broadcast_to(cols, shape)], -1)
    pixel = pixel[:, :, None, None]  # [H, W, 1, 1, 2]
    d = q - p
    t = tf.reduce_sum((pixel - p) * d, -1) / tf.maximum(tf.reduce_sum(d * d, -1), 1e-6)
    nearest = p + tf.clip_by_value(t, 0.0, 1.0)[..., None] * d
    distance = tf.norm(pixel - nearest, axis=-1)  # [H, W, S, segments]
    hit = (distance <= radius[:, None]) & active[:, None]
    return tf.cast(tf.reduce_any(hit, axis=[2, 3]), tf.float32)[..., tf.newaxis]


# --------------------------------------------------------------------------- the tasks


def edges2fashion(
    batch_size,
    split="train",
    seed=0,
    *,
    source_dir=FASHION_MNIST_DIR,
    image_size=None,
    edge_threshold=EDGE_THRESHOLD,
    **pipeline_kwargs,
):
    """Edges -> garment: `(source, target)`, float32 [batch, 28, 28, 1] each.

    Source: `edge_map(target, edge_threshold)`, exactly -1.0 or 1.0 (white edges on black,
    like the garments' black background); target: the garment in [-1, 1].

    Args:
        batch_size: pairs per batch.
        split: "train" or "test".
        seed: shuffle seed: the same seed gives the same batches.
        source_dir: folder of the Fashion-MNIST IDX files.
        image_size: None (28x28) or int / (h, w): resize the garments first.
        edge_threshold: see `edge_map`.
        **pipeline_kwargs: shuffle, shuffle_buffer, cache, repeat, input_context.

    Example:
    >>> edges, garments = next(iter(edges2fashion(8)))   # [8, 28, 28, 1] each
    """
    images, _ = fashion_arrays(split, source_dir)
    size = _size(image_size)
    _check_enough(split, len(images), batch_size)

    def batch_fn(x):
        target = common.to_float(x)
        return edge_map(target, edge_threshold), target

    return pairs.finish_paired(
        _source(images, size), num_examples=len(images), batch_size=batch_size, seed=seed,
        batch_fn=batch_fn, **pipeline_kwargs,
    )


def fashion_x4(
    batch_size, split="train", seed=0, *, source_dir=FASHION_MNIST_DIR, image_size=None,
    **pipeline_kwargs,
):
    """x4 super-resolution: `(source, target)`, source [batch, 7, 7, 1], target [batch, 28, 28, 1].

    The source is the target averaged over 4x4 blocks (`area_downsample`), so it is 4
    times smaller per side: an SRGAN generator upsamples x4. Both in [-1, 1].

    Args:
        image_size: None (28x28) or a size divisible by 4 (the target's).
        Other args: as in `edges2fashion`.
    """
    images, _ = fashion_arrays(split, source_dir)
    size = _size(image_size, SCALE)
    _check_enough(split, len(images), batch_size)

    def batch_fn(x):
        target = common.to_float(x)
        return area_downsample(target, SCALE), target

    return pairs.finish_paired(
        _source(images, size), num_examples=len(images), batch_size=batch_size, seed=seed,
        batch_fn=batch_fn, **pipeline_kwargs,
    )


def fashion_inpaint(
    batch_size,
    split="train",
    seed=0,
    *,
    mask="center",
    source_dir=FASHION_MNIST_DIR,
    image_size=None,
    **pipeline_kwargs,
):
    """Inpainting: `(source, target, mask)`, float32 [batch, 28, 28, 1] each.

    mask: 1.0 = a missing pixel to fill, 0.0 = known. source = target where the mask is 0
    and `INPAINT_FILL` (0.0, mid-grey in [-1, 1]) in the hole: the source never carries
    the hidden pixels, and a model gets the mask alongside.

    Args:
        mask: "center": the centred 14x14 square (H/2 x W/2), the same for every example;
            "random": one rectangle per example (`random_rectangle_mask`); "free_form":
            1 to 3 thick random strokes (`free_form_mask`). Random masks are drawn
            statelessly from (seed, example index, epoch): the same seed gives the same
            masks; with `repeat=True` each pass over the data draws new ones.
        Other args: as in `edges2fashion`.
    """
    if mask not in MASKS:
        raise DataError(
            f"`mask` must be one of {', '.join(MASKS)}. Received: mask={mask!r}"
        )
    images, _ = fashion_arrays(split, source_dir)
    height, width = _size(image_size)
    _check_enough(split, len(images), batch_size)
    fixed = center_mask(height, width)

    def example_fn(index, epoch, image):
        if mask == "center":
            return image, fixed
        key = pairs.example_key(seed, index, epoch)
        draw = random_rectangle_mask if mask == "random" else free_form_mask
        return image, draw(key, height, width)

    def batch_fn(x, holes):
        target = common.to_float(x)
        source = tf.where(holes > 0.5, INPAINT_FILL, target)
        return source, target, holes

    return pairs.finish_paired(
        _source(images, (height, width)), num_examples=len(images), batch_size=batch_size,
        seed=seed, example_fn=example_fn, batch_fn=batch_fn, **pipeline_kwargs,
    )


def sneaker2boot(
    batch_size, split="train", seed=0, *, source_dir=FASHION_MNIST_DIR, image_size=None,
    **pipeline_kwargs,
):
    """Unpaired sneakers <-> ankle boots: `(a, b)`, float32 [batch, 28, 28, 1] each.

    A: every Fashion-MNIST image of class `SNEAKER` (7), B: of class `ANKLE_BOOT` (9)
    (6,000 each in "train", 1,000 each in "test"): a classifier's accuracy on translated
    images against `SNEAKER2BOOT_CLASSES` measures the translation. Each side is
    shuffled with its own seed stream (`pairs.finish_unpaired`).

    Args: as in `edges2fashion`.
    """
    images, labels = fashion_arrays(split, source_dir)
    size = _size(image_size)
    sides = [images[labels == c] for c in SNEAKER2BOOT_CLASSES]

    def side(x):
        dataset = tf.data.Dataset.from_tensor_slices(x)
        if size != (28, 28):
            dataset = dataset.map(lambda image: common.resize(image, size))
        return dataset

    return pairs.finish_unpaired(
        side(sides[0]), side(sides[1]), sizes=[len(s) for s in sides], batch_size=batch_size,
        seed=seed, **pipeline_kwargs,
    )
