"""Argument checks shared by the layers; errors name the argument and the value."""

import numbers


def check_positive(name, value, integer=False, allow_none=False):
    """Returns `value` if it is a positive number (an int if `integer`), or None when
    `allow_none`; otherwise raises a ValueError naming the argument."""
    if value is None and allow_none:
        return None
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        what = "integer" if integer else "number"
        none = " or None" if allow_none else ""
        raise ValueError(f"`{name}` must be a positive {what}{none}. Received: {name}={value!r}")
    return value


def check_non_negative(name, value):
    """Returns `value` as a float if it is a number >= 0, or raises a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)
