"""``--cfg-options`` of ``tools/train.py`` / ``tools/test.py``, checked.

mmengine's ``DictAction`` and ``Config.merge_from_dict`` silently add a
misspelt key as a new one, accept any string for a numeric value (which then
fails deep inside a build, or not at all), accept a variable of the config
file that nothing reads any more (``max_iters=2`` while ``train_cfg``
already holds 300), read ``[dict(a=1)]`` as a list of one string and crash
with a RecursionError on ``[dict(a=1, b=2)]``. Here:

* :class:`CfgOptionsAction` (the argparse action) reads ``dict(...)`` and
  ``{...}`` values as literals (never executed) and turns a value it cannot
  read into a usage error naming the option;
* :func:`merge_cfg_options` warns about unknown top-level keys with the
  closest known key, refuses a config-file variable, and refuses a
  non-numeric string where the config has a number;
  :func:`load_config` is the config file plus these options, as the
  command-line tools read them;
* :func:`check_schedule` warns when a parameter scheduler does not fit the
  training length (a warm-up longer than the run).
"""
import difflib
import numbers
import re
import warnings
from typing import Any, Dict, List, Optional

from mmengine.config import Config, DictAction

from .utils.scripts import literal_value

__all__ = [
    'CfgOptionsAction', 'check_cfg_options', 'merge_cfg_options',
    'load_config', 'check_schedule', 'RUNNER_KEYS'
]

_MISSING = object()
#: Top-level config keys that mmengine's ``Runner`` (``from_cfg`` and its
#: ``cfg`` lookups), mmengine's ``Config`` and tools/train.py / test.py
#: read. Any other top-level key is a variable of the config file: its value
#: was copied into the fields that use it when the file was read.
RUNNER_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'model_wrapper_cfg', 'runner_type', 'custom_imports', 'compile',
    'find_unused_parameters', 'sync_bn', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'tta_model', 'tta_pipeline', 'strategy'
})
#: A value that ``DictAction`` cannot read but a literal can.
_LITERAL_ONLY = re.compile(r'\bdict\s*\(|^\s*\{')


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` with values it cannot read made errors.

    ``key=value`` pairs as ``DictAction`` reads them (numbers, booleans,
    ``None``, strings, ``[a,b]`` lists and ``(a,b)`` tuples), plus values
    holding ``dict(...)`` or ``{...}``, read as Python literals (nothing is
    executed), e.g. ``model.head.scales=[dict(spatial_thresh=0.7,
    weight=1.)]``. A pair without ``=``, unbalanced brackets or a value
    that is not a literal is a usage error naming the option.
    """

    def __call__(self, parser, namespace, values, option_string=None):
        options = dict(getattr(namespace, self.dest, None) or {})
        for pair in values or ():
            key, sep, text = pair.partition('=')
            where = f'{option_string} {pair}'
            if not sep or not key:
                parser.error(f'{where}: expected key=value')
            try:
                if _LITERAL_ONLY.search(text):
                    options[key] = literal_value(text, where)
                else:
                    options[key] = self._parse_iterable(text)
            except ValueError as err:
                parser.error(str(err))
            except (AssertionError, RecursionError, IndexError) as err:
                parser.error(
                    f'{where}: cannot read the value ({type(err).__name__}'
                    f'{": " + str(err) if str(err) else ""}); write lists '
                    'as [a,b], tuples as (a,b), dicts as dict(k=v), strings '
                    'with quotes when they hold brackets or commas')
        setattr(namespace, self.dest, options)


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


def _paths_holding(node, value, prefix: str = '') -> List[str]:
    """Dotted keys under ``node`` whose value equals ``value``."""
    found = []
    items = node.items() if hasattr(node, 'items') else enumerate(node) \
        if isinstance(node, (list, tuple)) else ()
    for name, child in items:
        path = f'{prefix}{name}'
        if child == value and type(child) is type(value):
            found.append(path)
        elif hasattr(child, 'items') or isinstance(child, (list, tuple)):
            found += _paths_holding(child, value, path + '.')
    return found


def check_cfg_options(cfg, options: Dict[str, Any]) -> None:
    """Check ``--cfg-options`` against the config before merging.

    Args:
        cfg (mmengine.Config): The loaded config.
        options (dict): ``key -> value`` from ``DictAction``.

    Raises:
        ValueError: a variable of the config file (a top-level key that no
            runner reads, e.g. ``max_iters``; the message lists the fields
            that hold its value), or a string where the config has a number
            (the message names the key).

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
        if top not in RUNNER_KEYS:
            uses = [p for p in _paths_holding(cfg, cfg[top]) if p != top]
            hint = (f' Its value is in {", ".join(uses[:6])}: set those.'
                    if uses else '')
            raise ValueError(
                f'--cfg-options {key}: "{top}" is a variable of the config '
                'file, used only while the file is read (its value was '
                'copied into the fields that use it); setting it now would '
                f'change nothing.{hint}')
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


def load_config(path: str, options: Optional[Dict[str, Any]]) -> Config:
    """The config of a command-line tool: the file, then its
    ``--cfg-options`` merged by :func:`merge_cfg_options`.

    Args:
        path (str): The config file.
        options (dict | None): ``key -> value`` from :class:`CfgOptionsAction`.

    Returns:
        mmengine.Config: The merged config.

    Raises:
        SystemExit: An option :func:`merge_cfg_options` refuses
            (``error: ...``, naming the key).
    """
    cfg = Config.fromfile(path)
    try:
        merge_cfg_options(cfg, options)
    except ValueError as err:
        raise SystemExit(f'error: {err}')
    return cfg


def check_schedule(cfg) -> List[str]:
    """Warn about parameter schedulers that do not fit the training length.

    mmengine does not rescale a schedule when ``train_cfg.max_iters`` (or
    ``max_epochs``) changes: with ``max_iters=10`` and a 20-iteration
    warm-up the lr never leaves the warm-up. A scheduler counted in the
    loop's unit (``by_epoch=False`` under ``IterBasedTrainLoop``,
    ``by_epoch=True`` under ``EpochBasedTrainLoop``) that starts at or after
    the end of training never runs; one that ends after it is cut off.

    Args:
        cfg (mmengine.Config): The config.

    Returns:
        list[str]: The warnings given (each also a ``UserWarning``).
    """
    train_cfg = cfg.get('train_cfg') or {}
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    if 'max_iters' in train_cfg:
        length, by_epoch, unit = train_cfg['max_iters'], False, 'iteration'
        key = 'train_cfg.max_iters'
    elif 'max_epochs' in train_cfg:
        length, by_epoch, unit = train_cfg['max_epochs'], True, 'epoch'
        key = 'train_cfg.max_epochs'
    else:
        return []
    messages = []
    for index, scheduler in enumerate(schedulers):
        # (convert_to_iter_based: still begin / end in epochs)
        if not isinstance(scheduler, dict) or \
                bool(scheduler.get('by_epoch', True)) != by_epoch:
            continue
        name = f'param_scheduler[{index}] ({scheduler.get("type")})'
        begin, end = scheduler.get('begin', 0), scheduler.get('end')
        if isinstance(begin, numbers.Number) and begin >= length:
            messages.append(
                f'{name} starts at {unit} {begin} but {key}={length}: it '
                'never runs')
        elif isinstance(end, numbers.Number) and end > length:
            messages.append(
                f'{name} runs to {unit} {end} but {key}={length}: it is cut '
                'off' + (' (the lr never leaves the warm-up)' if index == 0
                         and scheduler.get('type') == 'LinearLR' else ''))
    for message in messages:
        warnings.warn(
            f'{message}. mmengine does not rescale the schedule with the '
            f'training length: set param_scheduler[i].begin / end (and '
            f'T_max) with {key}.', stacklevel=2)
    return messages
