"""Which checkpoint a run resumes from, checked before the runner loads it.

``tools/train.py --resume [FILE]`` resolves the file here and checks it with
weights-only loading first: a file that needs full unpickling is refused
unless the user trusts it explicitly (``--trust-checkpoint``), and a weights
file without training state (``meta``) gives an error instead of mmengine's
``KeyError``. Without a path, an empty or dangling ``last_checkpoint`` (a run
killed while writing it) falls back to the newest checkpoint of the work dir.
"""
import logging
import os
import os.path as osp
import re
from typing import Optional

from mmengine.logging import print_log

from .loading import CheckpointLoadError, load_checkpoint_file

__all__ = ['ResumeError', 'latest_checkpoint', 'check_resume_checkpoint']

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
