"""The per-sample fields of a batch, stacked for the model, and what each
sample's depth is: present or not, its kind, its image range.

The data pipeline packs, per sample, ``coord`` [V, 4], ``depth`` [V, H, W]
(0 = invalid), ``has_depth`` (False: no depth at all, zeros),
``depth_kind`` (one of ``depth_kinds.DEPTH_KINDS``) and ``depth_range`` [2]
(min, max of the valid depth of the whole image before cropping).
:func:`stack_field` stacks one field of a batch; :func:`stack_depth` turns
the depth fields into the depth tensor and a :class:`DepthMeta` that the
pair filters read.
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from ... import structures as K
from ...depth_kinds import check_depth_kind


@dataclass
class DepthMeta:
    """Per-sample facts about the depth of a batch.

    The tensors stay on the CPU: the checks on them then never wait for
    the accelerator; :attr:`any_depth` / :attr:`all_depth` are Python bools
    read once per batch (no tensor-to-bool conversion in the step).

    Attributes:
        has_depth (Tensor): bool [N]. False: the sample has no depth; it is
            trained exactly as PixPro (no filter touches its pairs).
        kinds (tuple[str]): The N depth kinds
            (``depth_kinds.DEPTH_KINDS``).
        ranges (Tensor): float32 [N, 2] (min, max) of each whole image's
            valid depth before cropping; NaN where unknown.
        paths (tuple[str | None]): The N image paths, for messages.
    """
    has_depth: Tensor
    kinds: Tuple[str, ...]
    ranges: Tensor
    paths: Tuple[Optional[str], ...]

    def __post_init__(self) -> None:
        flags = self.has_depth.tolist()
        #: Whether some / every sample has depth.
        self.any_depth, self.all_depth = any(flags), all(flags)
        num = len(self.has_depth)
        if not (len(self.kinds) == len(self.ranges) == len(self.paths) ==
                num):
            raise ValueError('DepthMeta fields must have one entry per '
                             f'sample, got has_depth {num}, kinds '
                             f'{len(self.kinds)}, ranges {len(self.ranges)}, '
                             f'paths {len(self.paths)}')
        for index, kind in enumerate(self.kinds):
            check_depth_kind(kind, f'depth_kind of {self.sample_name(index)}')

    @classmethod
    def metric(cls, num: int) -> 'DepthMeta':
        """``num`` samples with metric depth of unknown range."""
        return cls(
            has_depth=torch.ones(num, dtype=torch.bool),
            kinds=('metric', ) * num,
            ranges=torch.full((num, 2), float('nan')),
            paths=(None, ) * num)

    def __len__(self) -> int:
        return len(self.has_depth)

    def sample_name(self, index: int) -> str:
        """The image path of a sample, or its index in the batch."""
        path = self.paths[index]
        return f'sample {path!r}' if path else f'sample {index} of the batch'


def _field(sample, name: str, default=None):
    value = sample.get(name, None)
    return default if value is None else value


def stack_field(data_samples: Sequence, name: str, device=None,
                absent: str = '') -> Optional[Tensor]:
    """One Tensor field of every data sample, stacked as float32.

    Args:
        data_samples (Sequence[DataSample]): The batch's data samples.
        name (str): The field, e.g. ``'coord'`` or ``'depth'``.
        device: Device of the result.
        absent (str): How a sample without the field should carry it, for
            the message when only some samples have it.

    Returns:
        Tensor | None: [N, ...], or None when no sample has the field.
    """
    present = [name in sample for sample in data_samples]
    if not any(present):
        return None
    if not all(present):
        raise ValueError(
            f'{sum(present)} of {len(present)} data samples carry "{name}"; '
            f'give it to all of them{absent}')
    return torch.stack([
        torch.as_tensor(sample.get(name)).float() for sample in data_samples
    ]).to(device)


def stack_depth(data_samples: Sequence,
                device=None) -> Tuple[Optional[Tensor], Optional[DepthMeta]]:
    """Depth [N, V, h, w] and its :class:`DepthMeta` from packed samples.

    A sample without a ``has_depth`` flag has depth if it carries a
    ``depth``; a missing ``depth_kind`` is ``'metric'``; a missing
    ``depth_range`` is unknown (NaN).

    Args:
        data_samples (Sequence[DataSample]): The batch's data samples.
        device: Device of the depth (the meta stays on the CPU).

    Returns:
        tuple: ``(depth, meta)``, or ``(None, None)`` when no sample has
        depth (the batch is trained as PixPro).
    """
    depth = stack_field(
        data_samples, K.DEPTH, device,
        ' (zeros and has_depth=False for samples without depth)')
    if depth is None:
        return None, None
    flags = [bool(_field(s, K.HAS_DEPTH, True)) for s in data_samples]
    if not any(flags):
        return None, None
    has_depth = torch.tensor(flags, dtype=torch.bool)
    kinds = tuple(
        str(_field(s, K.DEPTH_KIND, 'metric')) for s in data_samples)
    ranges = torch.stack([
        torch.as_tensor(_field(s, K.DEPTH_RANGE, [float('nan')] * 2),
                        dtype=torch.float32).reshape(2)
        for s in data_samples
    ])
    paths = tuple(
        None if _field(s, K.IMG_PATH) is None else str(s.get(K.IMG_PATH))
        for s in data_samples)
    return depth, DepthMeta(has_depth, kinds, ranges, paths)
