"""DiffAugment: differentiable augmentations applied to real and generated images alike.

The discriminator sees `T(x)` and `T(G(z))` for the same family of transforms `T`, in both
its own step and the generator's, so the generator learns the un-augmented distribution
while the discriminator cannot memorise a small dataset. Every op here is differentiable
with respect to the images (additions, products and gathers), so gradients reach G.

Randomness: the functions own no random state. They take `draws`, uniform numbers in
[0, 1) of shape `[B, diff_augment_num_draws(policy)]`, which the trainer draws statelessly
from (seed, step) for the global batch (see `tfgans.training.noise`). The same images and
draws give the same output. Columns are consumed in policy order:

| policy        | columns | op                                                         |
|---------------|---------|------------------------------------------------------------|
| "color"       | 3       | brightness, saturation, contrast                           |
| "translation" | 2       | shift of rows, shift of columns                            |
| "cutout"      | 2       | centre row, centre column of the square                    |

Reference: Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training",
NeurIPS 2020, https://arxiv.org/abs/2006.10738 (official code: mit-han-lab/data-efficient-gans,
whose TensorFlow ops these reproduce for images in [-1, 1]).
"""

from keras import ops

from tfgans.augment._sampling import axis_mask, gather_axis

__all__ = [
    "DIFF_AUGMENT_POLICIES",
    "brightness",
    "contrast",
    "cutout",
    "diff_augment",
    "diff_augment_num_draws",
    "parse_policy",
    "saturation",
    "translation",
]

# Policy name -> uniform draws per example it consumes.
DIFF_AUGMENT_POLICIES = {"color": 3, "translation": 2, "cutout": 2}


def parse_policy(policy):
    """Returns the policy as a tuple of names: `"color,translation"` -> `("color", "translation")`.

    Args:
        policy: a comma-separated string (spaces ignored; `""` or None for no augmentation),
            or a sequence of names.

    Raises:
        ValueError: for a name not in `DIFF_AUGMENT_POLICIES`.
    """
    if policy is None:
        return ()
    names = policy.split(",") if isinstance(policy, str) else list(policy)
    names = tuple(n.strip() for n in names if n.strip())
    for name in names:
        if name not in DIFF_AUGMENT_POLICIES:
            raise ValueError(
                f"Unknown DiffAugment policy {name!r}. Valid policies: "
                f"{', '.join(DIFF_AUGMENT_POLICIES)}. Received: policy={policy!r}"
            )
    return names


def diff_augment_num_draws(policy):
    """Number of uniform draws per example that `diff_augment(images, policy, draws)` needs."""
    return sum(DIFF_AUGMENT_POLICIES[name] for name in parse_policy(policy))


def _per_example(u, dtype):
    return ops.reshape(ops.cast(u, dtype), (-1, 1, 1, 1))


def brightness(images, u):
    """Adds a per-example constant: `x + (u - 0.5)`, so a shift uniform in [-0.5, 0.5).

    Args:
        images: [B, H, W, C].
        u: uniform draws [B] in [0, 1).
    """
    return images + (_per_example(u, images.dtype) - 0.5)


def saturation(images, u):
    """Scales each pixel's distance to its channel mean: `m + (x - m) * 2u`, `m = mean_c(x)`.

    The factor `2u` is uniform in [0, 2). A 1-channel image equals its channel mean, so
    it is unchanged.
    """
    mean = ops.mean(images, axis=3, keepdims=True)
    return (images - mean) * (2.0 * _per_example(u, images.dtype)) + mean


def contrast(images, u):
    """Scales the distance to the image mean: `m + (x - m) * (u + 0.5)`, `m = mean_hwc(x)`."""
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - mean) * (_per_example(u, images.dtype) + 0.5) + mean


def _uniform_int(u, low, high):
    """Integers uniform in [low, high] from draws u in [0, 1)."""
    k = ops.floor(ops.cast(u, "float32") * (high - low + 1))
    return ops.cast(ops.clip(k, 0, high - low), "int32") + low


def _shift_axis(images, shift, axis):
    size = images.shape[axis]
    source = ops.arange(size, dtype="int32")[None, :] + shift[:, None]  # out[i] = x[i + t]
    valid = ops.logical_and(source >= 0, source < size)
    moved = gather_axis(images, ops.clip(source, 0, size - 1), axis)
    return moved * axis_mask(valid, axis, images.dtype)


def translation(images, u_rows, u_cols, ratio=0.125):
    """Shifts each image by whole pixels, filling with zeros.

    With `s = int(size * ratio + 0.5)` per axis, the offsets `t` are integers uniform in
    [-s, s] (`t = floor(u * (2s + 1)) - s`) and `out[i, j] = x[i + t_rows, j + t_cols]`,
    zero where that falls outside the image (the content moves by `-t`).

    Args:
        images: [B, H, W, C] with static H, W.
        u_rows, u_cols: uniform draws [B] in [0, 1).
        ratio: the largest shift as a fraction of the side.
    """
    for axis, u in ((1, u_rows), (2, u_cols)):
        s = int(images.shape[axis] * ratio + 0.5)
        images = _shift_axis(images, _uniform_int(u, -s, s), axis)
    return images


def cutout(images, u_rows, u_cols, ratio=0.5):
    """Zeroes one square (rectangle for non-square images) per image.

    The side is `c = int(size * ratio + 0.5)` per axis; its centre `o` is an integer
    uniform in [0, size - (c mod 2)] (`o = floor(u * (size + 1 - c mod 2))`), and the
    zeroed rows (columns) are `[o - c // 2, o - c // 2 + c)`, clipped to the image.
    """
    mask = None
    for axis, u in ((1, u_rows), (2, u_cols)):
        size = images.shape[axis]
        c = int(size * ratio + 0.5)
        centre = _uniform_int(u, 0, size - c % 2)
        start = centre - c // 2
        pos = ops.arange(size, dtype="int32")[None, :]
        inside = ops.logical_and(pos >= start[:, None], pos < start[:, None] + c)
        inside = axis_mask(inside, axis, images.dtype)
        mask = inside if mask is None else mask * inside
    return images * (1.0 - mask)


def diff_augment(images, policy, draws, translation_ratio=0.125, cutout_ratio=0.5):
    """Applies a DiffAugment policy with the given random draws.

    Args:
        images: float [B, H, W, C] (NHWC, [-1, 1]) with static H, W, C.
        policy: e.g. `"color,translation,cutout"` (the paper's choice with few images);
            `""` or None returns `images` unchanged.
        draws: uniform numbers in [0, 1), `[B, diff_augment_num_draws(policy)]`; ignored
            (may be None) for an empty policy.
        translation_ratio: largest shift as a fraction of the side ("translation").
        cutout_ratio: side of the cut-out square as a fraction of the side ("cutout").

    Returns:
        The augmented images, same shape and dtype.

    Example:
    >>> x = np.zeros((2, 8, 8, 3), "float32")
    >>> draws = np.full((2, diff_augment_num_draws("color")), 0.75, "float32")
    >>> float(diff_augment(x, "color", draws)[0, 0, 0, 0])  # brightness + 0.25
    0.25

    Reference: https://arxiv.org/abs/2006.10738
    """
    names = parse_policy(policy)
    if not names:
        return images
    images = ops.convert_to_tensor(images)
    draws = None if draws is None else ops.convert_to_tensor(draws)
    if len(images.shape) != 4:
        raise ValueError(f"`images` must be [B, H, W, C]. Received: images.shape={images.shape}")
    needed = diff_augment_num_draws(names)
    if draws is None or (draws.shape[-1] is not None and draws.shape[-1] != needed):
        shape = None if draws is None else tuple(draws.shape)
        raise ValueError(
            f"`draws` must be [batch, {needed}] for policy {policy!r}. "
            f"Received: draws.shape={shape}"
        )
    column = 0
    for name in names:
        u = [draws[:, column + k] for k in range(DIFF_AUGMENT_POLICIES[name])]
        column += len(u)
        if name == "color":
            images = contrast(saturation(brightness(images, u[0]), u[1]), u[2])
        elif name == "translation":
            images = translation(images, u[0], u[1], translation_ratio)
        else:
            images = cutout(images, u[0], u[1], cutout_ratio)
    return images
