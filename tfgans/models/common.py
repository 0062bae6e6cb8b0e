"""Argument checks and input handling shared by the model families."""

import math
import numbers

from keras import ops

from tfgans.layers import CONDITIONINGS


def check_positive_int(name, value, allow_none=False):
    """Returns `value` as an int, or raises a ValueError naming the argument."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        none = " or None" if allow_none else ""
        raise ValueError(f"`{name}` must be a positive integer{none}. Received: {name}={value!r}")
    return int(value)


def check_bool(name, value):
    """Returns `value` if it is a bool, or raises a ValueError naming the argument."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def check_non_negative(name, value):
    """Returns `value` as a float if it is a number >= 0, or raises a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def check_int_tuple(name, value, allow_empty=False):
    """Returns `value` as a tuple of positive ints, or raises a ValueError."""
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if (
        items is None
        or (not items and not allow_empty)
        or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in items
        )
    ):
        raise ValueError(
            f"`{name}` must be a {'' if allow_empty else 'non-empty '}sequence of positive "
            f"integers. Received: {name}={value!r}"
        )
    return tuple(int(v) for v in items)


#: Supported image sizes of the convolutional families and the spatial size their
#: generators start from (their discriminators end at it).
START_SIZES = {28: 7, 32: 4, 64: 4}


def check_image_shape(image_shape):
    """Returns `image_shape` as an (H, W, C) int tuple with H == W in START_SIZES."""
    shape = check_int_tuple("image_shape", image_shape)
    if len(shape) != 3 or shape[0] != shape[1] or shape[0] not in START_SIZES:
        sizes = ", ".join(f"({s}, {s}, channels)" for s in START_SIZES)
        raise ValueError(
            f"`image_shape` must be one of {sizes}. Received: image_shape={image_shape!r}"
        )
    return shape


def num_resamplings(image_shape):
    """Factor-2 resamplings between the start size and the image size:
    28 -> 2 (7, 14, 28), 32 -> 3 (4, 8, 16, 32), 64 -> 4 (4, ..., 64)."""
    size = image_shape[0]
    return int(math.log2(size // START_SIZES[size]))


def check_conditioning(num_classes, conditioning, default):
    """Validates `conditioning` against `num_classes`; returns the one to use.

    None means `default` when `num_classes` is set and stays None otherwise.
    """
    if conditioning not in CONDITIONINGS:
        raise ValueError(
            f"`conditioning` must be one of {CONDITIONINGS}. "
            f"Received: conditioning={conditioning!r}"
        )
    if num_classes is None:
        if conditioning is not None:
            raise ValueError(
                "`conditioning` needs `num_classes`. Received: "
                f"conditioning={conditioning!r}, num_classes=None"
            )
        return None
    return default if conditioning is None else conditioning


def _describe(model):
    args = f"num_classes={model.num_classes!r}"
    if getattr(model, "conditioning", None) is not None:
        args += f", conditioning={model.conditioning!r}"
    return f"{type(model).__name__}({args})"


def split_inputs(model, inputs, name, with_labels):
    """Returns `(x, labels)` from `x` or `[x, labels]`; labels are int32 [batch].

    Args:
        model: the model being called, described in errors.
        inputs: what the model was called on.
        name: what `x` is ("noise", "images"), for errors.
        with_labels: whether the model takes labels.
    """
    if isinstance(inputs, (list, tuple)):
        if not with_labels:
            raise ValueError(
                f"{_describe(model)} takes no labels: call it on the {name} tensor alone. "
                f"Received: a {type(inputs).__name__} of {len(inputs)} inputs"
            )
        if len(inputs) != 2:
            raise ValueError(
                f"{_describe(model)} expects [{name}, labels]. Received: {len(inputs)} inputs"
            )
        x, labels = inputs
        return x, ops.reshape(ops.cast(labels, "int32"), (-1,))
    if with_labels:
        raise ValueError(
            f"{_describe(model)} is conditional: call it on [{name}, labels]. "
            "Received: a single tensor"
        )
    return inputs, None


def check_shape(model, x, name, expected):
    """Raises a ValueError unless `x` is [batch, *expected] where its shape is known."""
    got = tuple(x.shape[1:])
    if len(got) != len(expected) or any(g is not None and g != e for g, e in zip(got, expected)):
        raise ValueError(
            f"{type(model).__name__} expects {name} of shape [batch, "
            f"{', '.join(map(str, expected))}]. Received: {name} of shape {tuple(x.shape)}"
        )


def generator_input(model, inputs):
    """A generator's first activations: the noise, with the label embedding concatenated
    when the generator is conditional (Mirza & Osindero, 2014).

    `model` has `latent_dim`, `num_classes` and, when conditional, an `embedding` layer.
    """
    noise, labels = split_inputs(model, inputs, "noise", model.num_classes is not None)
    check_shape(model, noise, "noise", (model.latent_dim,))
    if labels is None:
        return noise
    return ops.concatenate([noise, ops.cast(model.embedding(labels), noise.dtype)], axis=-1)


def centring_pads(image_shape, padded):
    """The padding that centres an (H, W, ...) image in `padded` (H', W'):
    [[0, 0], [top, bottom], [left, right], [0, 0]] for `ops.pad`, or None when none is
    needed (U-Nets pad to a multiple of 2 ** depth)."""
    pad_h, pad_w = padded[0] - image_shape[0], padded[1] - image_shape[1]
    if not (pad_h or pad_w):
        return None
    return [[0, 0], [pad_h // 2, pad_h - pad_h // 2], [pad_w // 2, pad_w - pad_w // 2], [0, 0]]


def crop_pads(x, pads):
    """Removes `centring_pads`' padding from x [B, H', W', C] (no-op for None)."""
    if pads is None:
        return x
    (top, bottom), (left, right) = pads[1], pads[2]
    return x[:, top: x.shape[1] - bottom, left: x.shape[2] - right]
