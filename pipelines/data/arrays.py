"""In-memory NumPy arrays as a training pipeline."""

import numpy as np
import tensorflow as tf

from pipelines.data import common
from pipelines.data.common import DataError


def _check_images(images):
    images = np.asarray(images)
    if images.ndim == 3:  # [N, H, W]: greyscale
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[0] == 0:
        raise DataError(
            "`images` must be a non-empty array [N, H, W] or [N, H, W, C]. "
            f"Received: shape {images.shape}"
        )
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise DataError(
            "`images` must be uint8 in [0, 255] or float in [-1, 1]. "
            f"Received: dtype {images.dtype}"
        )
    low, high = float(images.min()), float(images.max())
    if not (-1.0 <= low and high <= 1.0):  # also catches NaN
        raise DataError(
            f"Float `images` must be in [-1, 1]. Received: values in [{low}, {high}]; "
            "pass uint8 [0, 255] or scale them (x / 127.5 - 1)."
        )
    return images.astype(np.float32)


def _check_labels(label_ids, num_images):
    label_ids = np.asarray(label_ids)
    if label_ids.shape != (num_images,) or not np.issubdtype(label_ids.dtype, np.integer):
        raise DataError(
            f"Labels must be integer class ids of shape [{num_images}] (one per image). "
            f"Received: shape {label_ids.shape}, dtype {label_ids.dtype}"
        )
    if label_ids.min() < 0:
        raise DataError(f"Labels must be >= 0. Received: a label {int(label_ids.min())}")
    return label_ids.astype(np.int32)


def from_arrays(arrays, batch_size, labels=False, seed=0, **pipeline_kwargs):
    """In-memory images (and labels) as a training pipeline.

    Args:
        arrays: `images` or `(images, label_ids)`, like a batch. images: uint8 [0, 255]
            (scaled to [-1, 1] by the pipeline) or float already in [-1, 1], shape
            [N, H, W] or [N, H, W, C]; label_ids: integer class ids [N].
        batch_size, labels, seed: as in `build_dataset`.
        **pipeline_kwargs: passed to `common.finish`.

    Example:
    >>> x = np.zeros([100, 28, 28], np.uint8); y = np.arange(100) % 10
    >>> images, ids = next(iter(from_arrays((x, y), 32, labels=True)))
    >>> images.shape, ids.dtype
    (TensorShape([32, 28, 28, 1]), tf.int32)

    Raises:
        DataError: bad shapes, dtypes or ranges; labels requested but `arrays` has none;
            fewer examples than `batch_size`.
    """
    common.check_batch_size(batch_size)
    if isinstance(arrays, (tuple, list)):
        if len(arrays) != 2:
            raise DataError(
                "`arrays` must be `images` or `(images, labels)`. "
                f"Received: a {type(arrays).__name__} of {len(arrays)} items"
            )
        images, label_ids = arrays
    else:
        images, label_ids = arrays, None
    images = _check_images(images)
    if labels and label_ids is None:
        raise DataError(
            "labels=True, but no labels were given: pass arrays=(images, labels) or set "
            "labels to false."
        )
    if label_ids is None:
        label_ids = np.full(len(images), -1, np.int32)
    else:
        label_ids = _check_labels(label_ids, len(images))
    if len(images) < batch_size:
        raise DataError(f"Got {len(images)} images, fewer than batch_size={batch_size}.")
    dataset = tf.data.Dataset.from_tensor_slices((images, label_ids))
    return common.finish(dataset, batch_size=batch_size, labels=labels, seed=seed, **pipeline_kwargs)
