"""How much of a model a checkpoint's weights cover.

mmengine's ``load_checkpoint(strict=False)`` only logs missing keys and shape
mismatches, so a run on an unrelated or wrong-shaped checkpoint goes on with
random weights. :func:`compare_state_dicts` counts what loads; the
``SafeCheckpointHook`` turns an incomplete load into
:class:`CheckpointMismatchError` unless partial loading was asked for.
"""
import re
from typing import Dict, List, NamedTuple, Sequence, Tuple

from .loading import CheckpointLoadError

__all__ = ['KeyMatch', 'CheckpointMismatchError', 'compare_state_dicts']

# mmengine's Runner.load_checkpoint default: DDP-saved keys lose `module.`.
DEFAULT_REVISE_KEYS = ((r'^module\.', ''), )


class CheckpointMismatchError(CheckpointLoadError):
    """A checkpoint loads none or only part of the model's weights."""


class KeyMatch(NamedTuple):
    """Result of :func:`compare_state_dicts`.

    Attributes:
        matched (list[str]): Model keys found with the same shape.
        missing (list[str]): Model keys absent from the checkpoint.
        mismatched (list[str]): ``'key: file shape vs model shape'`` entries.
        unexpected (list[str]): Checkpoint keys the model does not have.
    """
    matched: List[str]
    missing: List[str]
    mismatched: List[str]
    unexpected: List[str]

    @property
    def complete(self) -> bool:
        """True when every model weight is loaded from the checkpoint."""
        return not self.missing and not self.mismatched

    def summary(self) -> str:
        """One line: how many keys matched and examples of the rest."""
        total = len(self.matched) + len(self.missing) + len(self.mismatched)
        text = f'{len(self.matched)} of {total} model weights matched'
        for name, keys in (('missing', self.missing),
                           ('with another shape', self.mismatched),
                           ('unexpected', self.unexpected)):
            if keys:
                text += f'; {len(keys)} {name} (e.g. {", ".join(keys[:3])})'
        return text


def _shape(value) -> Tuple[int, ...]:
    return tuple(getattr(value, 'shape', ()))


def compare_state_dicts(
        model_state: Dict,
        checkpoint_state: Dict,
        revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS
) -> KeyMatch:
    """Compare a checkpoint's weights with a model's, key by key.

    Args:
        model_state (dict): ``model.state_dict()``.
        checkpoint_state (dict): The checkpoint's ``state_dict``.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            applied to the checkpoint keys first, as mmengine does on load.

    Returns:
        KeyMatch: matched, missing, mismatched and unexpected keys.
    """
    revised = {}
    for key, value in checkpoint_state.items():
        for pattern, replacement in revise_keys:
            key = re.sub(pattern, replacement, str(key))
        revised[key] = value
    matched, missing, mismatched = [], [], []
    for key, value in model_state.items():
        if key not in revised:
            missing.append(key)
        elif _shape(revised[key]) != _shape(value):
            mismatched.append(f'{key}: {list(_shape(revised[key]))} in the '
                              f'file vs {list(_shape(value))} in the model')
        else:
            matched.append(key)
    unexpected = [k for k in revised if k not in model_state]
    return KeyMatch(matched, missing, mismatched, unexpected)
