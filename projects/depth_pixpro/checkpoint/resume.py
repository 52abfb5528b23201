"""Which checkpoint a run resumes from, checked before the runner loads it.

``tools/train.py --resume [FILE]`` resolves the file here and checks it with
weights-only loading first: a file that needs full unpickling is refused
unless the user trusts it explicitly (``--trust-checkpoint``), and a weights
file without training state (``meta``) gives an error instead of mmengine's
``KeyError``. Without a path, an empty or dangling ``last_checkpoint`` (a run
killed while writing it) falls back to the newest checkpoint of the work dir.
A checkpoint trained as another model (e.g. DepthPixPro's resumed with the
PixPro config, whose weights fit just as well) is refused: its stored config
(``meta['cfg']``, read as literals, never executed) is compared with the
run's.
"""
import logging
import os
import os.path as osp
import re
from typing import Dict, List, Optional

from mmengine.logging import print_log

from ..utils.scripts import literal_config
from .loading import CheckpointLoadError, load_checkpoint_file

__all__ = ['ResumeError', 'latest_checkpoint', 'check_resume_checkpoint',
           'check_resume_model']

TRUST_FLAG = '--trust-checkpoint'
_RUN_CHECKPOINT = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


class ResumeError(CheckpointLoadError):
    """A checkpoint cannot be resumed from (unsafe, or no training state)."""


def _newest_run_checkpoint(work_dir: str) -> Optional[str]:
    """The ``iter_N.pth``/``epoch_N.pth`` of ``work_dir`` with the largest N."""
    if not osp.isdir(work_dir):
        return None
    found = [(int(m.group(1)), name) for name in os.listdir(work_dir)
             for m in [_RUN_CHECKPOINT.match(name)] if m]
    return osp.join(work_dir, max(found)[1]) if found else None


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` without a path continues from.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        str | None: The file ``last_checkpoint`` names if it exists, else the
        newest ``iter_N.pth``/``epoch_N.pth`` in ``work_dir``, else None.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return _newest_run_checkpoint(work_dir)
    with open(pointer) as f:
        named = f.read().strip()
    if named and osp.isfile(named):
        inside = osp.realpath(named).startswith(
            osp.realpath(work_dir) + os.sep)
        if not inside:
            print_log(
                f'{pointer} names {named}, outside the work dir; it loads '
                'weights-only like any other file.',
                logger='current', level=logging.WARNING)
        return named
    fallback = _newest_run_checkpoint(work_dir)
    print_log(
        f'{pointer} is empty or names a missing file ({named!r}); resuming '
        f'from the newest checkpoint of the work dir: {fallback}',
        logger='current', level=logging.WARNING)
    return fallback


def check_resume_checkpoint(filename: str) -> dict:
    """Load a checkpoint as resuming will, and check it holds training state.

    Weights-only unless ``filename`` is inside
    :func:`~.loading.trusted_checkpoints`.

    Args:
        filename (str): The checkpoint to resume from.

    Returns:
        dict: Its ``meta`` (``epoch``, ``iter``, ...).

    Raises:
        ResumeError: unsafe (naming ``--trust-checkpoint``), not a training
            checkpoint (no ``meta`` with ``epoch``/``iter``, no
            ``state_dict``), or unreadable.
    """
    try:
        checkpoint = load_checkpoint_file(filename, map_location='cpu')
    except CheckpointLoadError as err:
        if err.unsafe:
            raise ResumeError(
                f'refusing to resume from {filename}: it carries pickled '
                'Python objects that weights-only loading does not allow, '
                'and unpickling them could run code. This project\'s own '
                'checkpoints never need it. Only if you trust the file '
                '(e.g. written by an older version), rerun with '
                f'{TRUST_FLAG}.', filename, unsafe=True) from err
        raise ResumeError(f'cannot resume: {err}', filename) from err
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict) or not all(
            isinstance(meta.get(k), int) for k in ('epoch', 'iter')):
        raise ResumeError(
            f'cannot resume from {filename}: it has no training state '
            '(no "meta" with epoch and iter), so it is a weights file, not '
            'a checkpoint of a run. To start a new run from its weights, use '
            f'--cfg-options load_from={filename} without --resume.',
            filename)
    if not isinstance(checkpoint.get('state_dict'), dict):
        raise ResumeError(
            f'cannot resume from {filename}: no "state_dict" inside.',
            filename)
    return meta


#: Model settings that do not change what is trained: how it is
#: initialised, and how its inputs are normalised (set by the runner).
_IGNORED_MODEL_KEYS = ('init_cfg', 'pretrained', 'data_preprocessor',
                       '_scope_')
#: Norm layers that tools/train.py swaps by device (SyncBN -> BN on CPU).
_SAME_NORM = {'SyncBN': 'BN', 'MMSyncBN': 'BN', 'TorchSyncBN': 'BN'}


def _model_fields(node, prefix: str = '') -> Dict[str, object]:
    """Dotted key -> value of a model config (dicts flattened, tuples as
    lists, device-dependent norm types unified, init settings dropped)."""
    if isinstance(node, dict):
        fields = {}
        for key, value in node.items():
            if key in _IGNORED_MODEL_KEYS:
                continue
            if key == 'type' and isinstance(value, str):
                value = _SAME_NORM.get(value, value)
            fields.update(_model_fields(value, f'{prefix}{key}.'))
        return fields
    if isinstance(node, (list, tuple)):
        return {prefix[:-1]: [_model_fields(v, '') if isinstance(v, dict)
                              else v for v in node]}
    return {prefix[:-1]: node}


def check_resume_model(meta: dict, model_cfg, filename: str) -> None:
    """Refuse to resume a checkpoint trained as another model.

    The model config the checkpoint was trained with (mmengine stores the
    run's config text in ``meta['cfg']``; read as literals, never executed)
    must equal the run's, apart from init settings, the data preprocessor
    and SyncBN vs BN. A checkpoint without a readable stored config is
    resumed with a warning.

    Args:
        meta (dict): The checkpoint's ``meta``
            (:func:`check_resume_checkpoint`).
        model_cfg (dict): The run's ``cfg.model``.
        filename (str): The checkpoint, for messages.

    Raises:
        ResumeError: The models differ (the message lists the settings).
    """
    text = meta.get('cfg')
    try:
        stored = literal_config(text).get('model') \
            if isinstance(text, str) else None
    except ValueError as err:
        stored, text = None, f'unreadable ({err})'
    if not isinstance(stored, dict):
        print_log(
            f'{filename}: its model config cannot be compared with this '
            f'run\'s (stored config: {"none" if text is None else text}); '
            'resuming it as the config says', logger='current',
            level=logging.WARNING)
        return
    old = _model_fields(stored)
    new = _model_fields(model_cfg.to_dict() if hasattr(model_cfg, 'to_dict')
                        else dict(model_cfg))
    differ: List[str] = [
        f'model.{key}: {_short(old.get(key, "(unset)"))} in the checkpoint, '
        f'{_short(new.get(key, "(unset)"))} in the config'
        for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)
    ]
    if differ:
        raise ResumeError(
            f'cannot resume from {filename}: it was trained as another model '
            f'({"; ".join(differ[:5])}'
            f'{f"; and {len(differ) - 5} more" if len(differ) > 5 else ""}). '
            'Resuming would continue it as a different method. To continue '
            'that run, resume with the config it was trained with; to start '
            'this config from its weights, use --cfg-options '
            f'load_from={filename} without --resume.', filename)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + '...'
