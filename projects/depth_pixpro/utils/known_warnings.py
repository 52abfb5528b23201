"""Third-party warnings every run printed that say nothing to a user of
this project, silenced once, by message (any other warning stays visible).

:func:`silence_known_warnings` runs when the package is imported (tools
import it first; forked data workers inherit the filters).
:func:`muted_log_messages` mutes mmengine's deprecation log lines around the
one call of ours that triggers them (``AtomicCheckpointHook.before_train``).
"""
import contextlib
import logging
import warnings
from typing import Iterator, Sequence

__all__ = [
    'KNOWN_WARNINGS', 'KNOWN_LOG_MESSAGES', 'silence_known_warnings',
    'muted_log_messages'
]

#: (message regex, category, why it says nothing here)
KNOWN_WARNINGS = (
    (r'pkg_resources is deprecated as an API', UserWarning,
     'mmengine imports pkg_resources; setuptools<81 is pinned for it'),
    (r"Only use 'alpha' for pillow backend", UserWarning,
     "mmcv's adjust_contrast (ColorJitter) warns on every call with the "
     'cv2 backend it uses'),
    (r'The draw is False, it means that the hook for visualization will '
     r'not take effect', UserWarning,
     "mmseg's SegVisualizationHook off, as configured (tools/test.py "
     '--show turns it on)'),
    (r'Setting (OMP|MKL)_NUM_THREADS environment variable for each process',
     UserWarning,
     'mmengine under a distributed launch; utils/threads.py chooses the '
     'threads of a run'),
    (r'``build_loss`` would be deprecated soon', UserWarning,
     "mmseg's decode heads call their own deprecated builder"),
    (r'Default ``avg_non_ignore`` is False', UserWarning,
     "mmseg's CrossEntropyLoss default, which the segmentation configs keep "
     '(the MoCo/PixPro protocol)'),
)

#: mmengine's own deprecations logged by ``CheckpointHook.before_train``.
KNOWN_LOG_MESSAGES = (
    '"FileClient" will be deprecated in future',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


def silence_known_warnings() -> None:
    """Ignore the :data:`KNOWN_WARNINGS` (by message, in every module)."""
    for message, category, _ in KNOWN_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category)


class _DropMessages(logging.Filter):

    def __init__(self, fragments: Sequence[str]) -> None:
        super().__init__()
        self.fragments = tuple(fragments)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(f in message for f in self.fragments)


@contextlib.contextmanager
def muted_log_messages(logger: logging.Logger,
                       fragments: Sequence[str] = KNOWN_LOG_MESSAGES
                       ) -> Iterator[None]:
    """While inside, ``logger`` drops the records that contain any of
    ``fragments`` (the others pass)."""
    drop = _DropMessages(fragments)
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)
