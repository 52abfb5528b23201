"""Build-time checks of numeric config values, with errors naming the key.

A negative threshold, a NaN weight or a zero channel count would otherwise
train silently wrong (every pair rejected, a NaN loss) or fail deep inside
torch; these checks fail at build time and say which key to fix.
"""
import math
from numbers import Real
from typing import Optional


def check_number(value,
                 key: str,
                 low: Optional[float] = None,
                 high: Optional[float] = None,
                 low_inclusive: bool = True,
                 high_inclusive: bool = True,
                 allow_inf: bool = False) -> float:
    """A real number (not NaN, not bool) in the given interval.

    Args:
        value: The config value.
        key (str): Its name in messages, e.g. ``'scales[1].weight'``.
        low (float, optional): Lower bound.
        high (float, optional): Upper bound.
        low_inclusive (bool): Whether ``low`` itself is allowed.
        high_inclusive (bool): Whether ``high`` itself is allowed.
        allow_inf (bool): Whether +inf is allowed (e.g. a filter turned
            off), whatever ``high``.

    Returns:
        float: ``value`` as a float.

    Raises:
        ValueError: Naming ``key``, the value and the allowed range.
    """
    if isinstance(value, bool) or not isinstance(value, Real) or \
            math.isnan(value):
        raise ValueError(f'{key} must be a number, got {value!r}')
    value = float(value)
    if value == math.inf and allow_inf:
        return value
    left = '[' if low_inclusive and low is not None else '('
    right = ']' if high_inclusive and high is not None else ')'
    bounds = (f'{left}{"-inf" if low is None else format(low, "g")}, '
              f'{"inf" if high is None else format(high, "g")}{right}')
    allowed = f'in {bounds}' + (' or inf' if allow_inf else '')
    too_low = low is not None and (value < low or
                                   (value == low and not low_inclusive))
    too_high = high is not None and (value > high or
                                     (value == high and not high_inclusive))
    if too_low or too_high or math.isinf(value):
        raise ValueError(f'{key} must be {allowed}, got {value!r}')
    return value


def check_positive(value, key: str, allow_inf: bool = False) -> float:
    """A number > 0 (finite unless ``allow_inf``)."""
    return check_number(value, key, low=0., low_inclusive=False,
                        allow_inf=allow_inf)


def check_channels(value, key: str) -> int:
    """A channel count: an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{key} must be an int >= 1, got {value!r}')
    return value
