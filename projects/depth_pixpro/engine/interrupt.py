"""Ctrl-C during training: finish the iteration, save it, say how to resume.

A bare ``KeyboardInterrupt`` can stop a step half-way (some weights updated,
others not) and leaves a traceback and, before the first checkpoint, no
file at all. :func:`train_with_interrupt_checkpoint` runs ``runner.train()``
with a SIGINT handler instead: the first Ctrl-C lets the current iteration
end, :class:`InterruptCheckpointHook` saves its checkpoint (the run's own
atomic checkpoint hook: ``last_checkpoint``, ``max_keep_ckpts``) and the
process exits with status 130 and the command that resumes the run. A second
Ctrl-C stops at once, with the same resume line (the last complete
checkpoint).

Single-process runs only: under a distributed launch the processes would
have to agree on the iteration to stop at, so there Ctrl-C keeps its usual
meaning (torchrun stops the workers) and only the resume line is printed.
"""
import os
import shlex
import signal
import sys
import threading
from typing import List, Optional, Sequence

from mmengine.dist import get_world_size
from mmengine.hooks import Hook

from ..checkpoint import AtomicCheckpointHook, latest_checkpoint

__all__ = [
    'InterruptCheckpointHook', 'TrainingInterrupted', 'resume_command',
    'train_with_interrupt_checkpoint'
]

#: Exit status of a process stopped by SIGINT (128 + 2), as shells report.
INTERRUPTED_STATUS = 130


class TrainingInterrupted(Exception):
    """Raised after the interrupted iteration's checkpoint was saved."""

    def __init__(self, iteration: int, path: Optional[str]) -> None:
        super().__init__(iteration, path)
        self.iteration = iteration
        self.path = path


class InterruptCheckpointHook(Hook):
    """Saves and stops after the iteration during which Ctrl-C came.

    :meth:`request` is the SIGINT handler of the main process; forked data
    workers inherit it and ignore the signal (the main process stops them).
    """

    priority = 'LOWEST'  # after the checkpoint hook and the probes

    def __init__(self) -> None:
        self.main_pid = os.getpid()
        self.requested = False

    def request(self, signum=None, frame=None) -> None:
        """SIGINT: stop after this iteration; a second one stops now."""
        if os.getpid() != self.main_pid:
            return
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print('Ctrl-C: saving a checkpoint at the end of this iteration, then '
              'stopping (Ctrl-C again: stop at once)', file=sys.stderr,
              flush=True)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self.requested:
            return
        saver = [h for h in runner.hooks
                 if isinstance(h, AtomicCheckpointHook)]
        path = saver[0].save_now(runner) if saver else None
        raise TrainingInterrupted(runner.iter + 1, path)


def resume_command(argv: Sequence[str]) -> str:
    """The command line that resumes the run ``argv`` started.

    Args:
        argv (Sequence[str]): ``sys.argv`` of ``tools/train.py``.

    Returns:
        str: ``python <argv without any --resume [FILE]> --resume``, quoted
        for a POSIX shell.
    """
    args: List[str] = []
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if arg == '--resume':
            if rest and not rest[0].startswith('-'):
                rest.pop(0)  # its file
            continue
        if arg.startswith('--resume='):
            continue
        args.append(arg)
    return shlex.join(['python', argv[0]] + args + ['--resume'])


def _stopped_message(iteration: Optional[int], saved: Optional[str],
                     work_dir: str, argv: Sequence[str]) -> str:
    if saved:
        where = f'saved {saved}'
    else:
        last = latest_checkpoint(work_dir)
        where = (f'the last checkpoint is {last}' if last else
                 'no checkpoint was written yet: a rerun starts from scratch')
    at = f' after iteration {iteration}' if iteration else ''
    return (f'stopped by Ctrl-C{at}: {where}. Resume with:\n  '
            f'{resume_command(argv)}')


def train_with_interrupt_checkpoint(runner,
                                    argv: Optional[Sequence[str]] = None):
    """``runner.train()``; Ctrl-C saves and exits with the resume command.

    Args:
        runner (mmengine.runner.Runner): The built runner.
        argv (Sequence[str], optional): The command line of the run, for
            the resume line. Defaults to ``sys.argv``.

    Returns:
        The model ``runner.train()`` returns.

    Raises:
        SystemExit: Status 130 after Ctrl-C (the message on stderr).
    """
    argv = sys.argv if argv is None else argv
    single = get_world_size() == 1 and \
        threading.current_thread() is threading.main_thread()
    hook = InterruptCheckpointHook()
    previous = None
    if single:
        runner.register_hook(hook)
        # before train() forks the data workers: they inherit it
        previous = signal.signal(signal.SIGINT, hook.request)
    try:
        return runner.train()
    except (TrainingInterrupted, KeyboardInterrupt) as stop:
        iteration, saved = (stop.iteration, stop.path) if isinstance(
            stop, TrainingInterrupted) else (None, None)
        print(_stopped_message(iteration, saved, runner.work_dir, argv),
              file=sys.stderr, flush=True)
        raise SystemExit(INTERRUPTED_STATUS) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
