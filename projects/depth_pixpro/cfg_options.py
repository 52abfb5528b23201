"""``--cfg-options`` of ``tools/train.py`` / ``tools/test.py``, checked.

mmengine's ``Config.merge_from_dict`` silently adds a misspelt key as a new
one and accepts any string for a numeric value (which then fails deep inside
a build, or not at all). :func:`merge_cfg_options` warns about unknown
top-level keys with the closest known key, and refuses a non-numeric string
where the config has a number.
"""
import difflib
import numbers
import warnings
from typing import Any, Dict

__all__ = ['check_cfg_options', 'merge_cfg_options']

_MISSING = object()


def _lookup(cfg, key: str) -> Any:
    """The config value at dotted ``key`` (list indices allowed), or
    ``_MISSING``."""
    node = cfg
    for part in key.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit() and \
                int(part) < len(node):
            node = node[int(part)]
        elif hasattr(node, 'keys') and part in node:
            node = node[part]
        else:
            return _MISSING
    return node


def check_cfg_options(cfg, options: Dict[str, Any]) -> None:
    """Check ``--cfg-options`` against the config before merging.

    Args:
        cfg (mmengine.Config): The loaded config.
        options (dict): ``key -> value`` from ``DictAction``.

    Raises:
        ValueError: a string where the config has a number (the message
            names the key).

    Warns:
        UserWarning: an unknown top-level key, with the closest known key.
    """
    known = list(cfg.keys())
    for key, value in options.items():
        top = key.split('.')[0]
        if top not in known:
            close = difflib.get_close_matches(top, known, n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ''
            warnings.warn(
                f'--cfg-options {key}: "{top}" is not a key of the config; '
                f'it is added as a new key that nothing may read.{hint}',
                stacklevel=2)
            continue
        current = _lookup(cfg, key)
        is_number = isinstance(current, numbers.Number) and not isinstance(
            current, bool)
        if is_number and isinstance(value, str):
            raise ValueError(
                f'--cfg-options {key}={value}: expected a number (the config '
                f'has {current!r}), got the string {value!r}.')


def merge_cfg_options(cfg, options: Dict[str, Any]) -> None:
    """:func:`check_cfg_options`, then ``cfg.merge_from_dict(options)``.

    Args:
        cfg (mmengine.Config): The config, changed in place.
        options (dict | None): ``key -> value`` from ``DictAction``.
    """
    if not options:
        return
    check_cfg_options(cfg, options)
    cfg.merge_from_dict(options)
