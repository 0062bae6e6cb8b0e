"""Per-example gathers along the height or width axis of NHWC images, in `keras.ops`.

Augmentations move pixels with gathers, not scatters, so they are differentiable with
respect to the images and compile with XLA. Each helper takes one index (or coordinate)
row per example: `[B, L]` for an axis of output length L.
"""

from keras import ops


def gather_axis(images, indices, axis):
    """Returns `out[b, i] = images[b, indices[b, i]]` along `axis` (1: rows, 2: columns).

    Args:
        images: [B, H, W, C].
        indices: int [B, L], each in [0, images.shape[axis]).
        axis: 1 or 2.
    """
    shape = ops.shape(images)
    if axis == 1:
        indices = indices[:, :, None, None]
        target = (shape[0], ops.shape(indices)[1], shape[2], shape[3])
    else:
        indices = indices[:, None, :, None]
        target = (shape[0], shape[1], ops.shape(indices)[2], shape[3])
    return ops.take_along_axis(images, ops.broadcast_to(indices, target), axis=axis)


def axis_mask(valid, axis, dtype):
    """Broadcastable [B, L, 1, 1] (axis 1) or [B, 1, L, 1] (axis 2) mask from bool [B, L]."""
    valid = ops.cast(valid, dtype)
    return valid[:, :, None, None] if axis == 1 else valid[:, None, :, None]


def reflect_index(index, size):
    """Mirrors integer positions into [0, size) without repeating the edge (`reflect` mode).

    `-1 -> 1`, `size -> size - 2`, periodic with period `2 * (size - 1)` beyond that, so
    any integer maps into the image.
    """
    if size == 1:
        return ops.zeros_like(index)
    index = ops.mod(index, 2 * (size - 1))
    return (size - 1) - ops.abs((size - 1) - index)


def bilinear_axis(images, coords, axis, size):
    """Linear interpolation along one axis at float positions `coords` [B, L], reflected.

    `out[b, i] = (1 - w) * images[b, k] + w * images[b, k + 1]` with `k = floor(coords)`
    and `w = coords - k`; `k` and `k + 1` are mirrored into the image. At integer positions
    `w = 0` and the result is the gathered row exactly.
    """
    floor = ops.floor(coords)
    weight = coords - floor
    low = ops.cast(floor, "int32")
    rows_low = gather_axis(images, reflect_index(low, size), axis)
    rows_high = gather_axis(images, reflect_index(low + 1, size), axis)
    weight = axis_mask(weight, axis, images.dtype)
    return rows_low + weight * (rows_high - rows_low)
