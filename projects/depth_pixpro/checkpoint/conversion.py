"""A pretraining checkpoint's online backbone as an mmseg ResNet file.

Only the ONLINE backbone is taken (never the momentum target), its prefix
stripped (:func:`~.layout.backbone_state_dict` finds it in a DepthPixPro or
an official PixPro checkpoint); the depth and stem are read from the keys
and the result is checked by a strict load into mmseg's ``ResNet``
(``ResNetV1c`` for a deep stem); NaN or infinite weights (a diverged run)
are refused. The output is written atomically, never over the source or a
folder, and over an existing file only with ``force``. Used by
``tools/model_converters/depth_pixpro_to_mmseg.py`` and
``tools/seg_transfer.py``.
"""
import math
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Tuple

from .layout import backbone_state_dict
from .loading import load_checkpoint_file
from .saving import atomic_torch_save
from .values import largest_weight

__all__ = [
    'STAGE_BLOCKS', 'infer_resnet_arch', 'verify_mmseg_resnet',
    'DestinationError', 'check_destination', 'convert_to_mmseg'
]

# Blocks per stage -> ResNet depth, for each block type.
STAGE_BLOCKS = {
    ('basic', (2, 2, 2, 2)): 18,
    ('basic', (3, 4, 6, 3)): 34,
    ('bottleneck', (3, 4, 6, 3)): 50,
    ('bottleneck', (3, 4, 23, 3)): 101,
    ('bottleneck', (3, 8, 36, 3)): 152,
}


def infer_resnet_arch(state_dict: Dict) -> Tuple[int, bool]:
    """Infer ResNet depth and stem type from backbone key names.

    Args:
        state_dict (dict): Backbone weights without prefix.

    Returns:
        tuple[int, bool]: ``(depth, deep_stem)``.

    Raises:
        ValueError: the keys do not describe a ResNet-18/34/50/101/152.
    """
    blocks = []
    for stage in range(1, 5):
        ids = {
            int(m.group(1))
            for k in state_dict
            for m in [re.match(rf'layer{stage}\.(\d+)\.', k)] if m
        }
        blocks.append(max(ids) + 1 if ids else 0)
    kind = 'bottleneck' if any(
        re.match(r'layer1\.0\.conv3\.', k) for k in state_dict) else 'basic'
    depth = STAGE_BLOCKS.get((kind, tuple(blocks)))
    if depth is None:
        raise ValueError(f'backbone keys do not describe a known ResNet: '
                         f'{kind} blocks per stage {blocks}.')
    deep_stem = any(k.startswith('stem.') for k in state_dict)
    return depth, deep_stem


def verify_mmseg_resnet(state_dict: Dict, depth: int,
                        deep_stem: bool) -> Tuple[list, list]:
    """Load ``state_dict`` into a fresh mmseg ResNet, strict key check.

    Returns:
        tuple[list, list]: ``(missing_keys, unexpected_keys)``; both empty on
        success. Shapes must match (a mismatch raises RuntimeError).
    """
    from mmseg.models.backbones import ResNet, ResNetV1c
    backbone = (ResNetV1c if deep_stem else ResNet)(depth=depth)
    result = backbone.load_state_dict(state_dict, strict=False)
    return list(result.missing_keys), list(result.unexpected_keys)


class DestinationError(ValueError):
    """The output path would overwrite the input or an existing file."""


def check_destination(src: str, dst: str, force: bool = False) -> None:
    """Refuse to write over the source, a folder, or any file without
    ``force``.

    Raises:
        DestinationError: ``dst`` is ``src`` (also through links), a folder
            (also with ``force``), or exists and ``force`` is False.
    """
    if osp.isdir(dst):
        raise DestinationError(
            f'destination {dst} is a folder: give the output file name, e.g. '
            f'{osp.join(dst, osp.splitext(osp.basename(src))[0])}_mmseg.pth '
            '(a folder is never replaced, also with --force).')
    same = osp.realpath(src) == osp.realpath(dst) or (
        osp.exists(src) and osp.exists(dst) and osp.samefile(src, dst))
    if same:
        raise DestinationError(
            f'destination {dst} is the source checkpoint: refusing to '
            'replace a pretraining checkpoint by its backbone. Choose another '
            'output file.')
    if osp.lexists(dst) and not force:
        raise DestinationError(
            f'destination {dst} exists: refusing to overwrite it (pass '
            '--force to replace it).')


def convert_to_mmseg(src: str, dst: str, fmt: str = 'mmseg',
                     force: bool = False) -> dict:
    """Convert ``src`` into a backbone-only file ``dst``.

    The output is written atomically (temporary file + rename), never over
    ``src``, and over an existing file only with ``force``.

    Args:
        src (str): Pretraining checkpoint.
        dst (str): Output path.
        fmt (str): ``mmseg`` (``{'state_dict', 'meta'}``) or ``torchvision``
            (a bare state dict).
        force (bool): Replace an existing ``dst`` (never ``src``).

    Returns:
        dict: Summary with ``depth``, ``deep_stem``, ``num_keys``, ``missing``
        and ``unexpected``.

    Raises:
        NotPixProCheckpointError: ``src`` is not a PixPro-like checkpoint.
        RuntimeError: the converted keys do not load into mmseg's ResNet.
        ValueError: a backbone weight is NaN or infinite.
        DestinationError: see :func:`check_destination`.
    """
    if fmt not in ('mmseg', 'torchvision'):
        raise ValueError(f'unknown format {fmt!r}: use mmseg or torchvision')
    check_destination(src, dst, force)
    checkpoint = load_checkpoint_file(src, map_location='cpu')
    backbone = backbone_state_dict(
        checkpoint, source=src, pretraining_only=True)
    name, peak = largest_weight(backbone)
    if not math.isfinite(peak):
        raise ValueError(
            f'{src}: the backbone weight {name} is not a finite number (the '
            'run diverged before this checkpoint); convert an earlier '
            'checkpoint of the run.')
    depth, deep_stem = infer_resnet_arch(backbone)
    missing, unexpected = verify_mmseg_resnet(backbone, depth, deep_stem)
    if missing or unexpected:
        raise RuntimeError(
            f'{src}: converted keys do not match mmseg ResNet-{depth}: '
            f'{len(missing)} missing (e.g. {missing[:3]}), {len(unexpected)} '
            f'unexpected (e.g. {unexpected[:3]}).')
    if fmt == 'torchvision' and deep_stem:
        raise ValueError(f'{src}: a deep-stem ResNet has no torchvision '
                         'equivalent; use --format mmseg.')
    backbone = OrderedDict((k, v.detach().clone().cpu())
                           for k, v in backbone.items())
    src_meta = checkpoint.get('meta') if isinstance(
        checkpoint.get('meta'), dict) else {}
    meta = dict(
        source=osp.basename(src),
        arch=f"{'ResNetV1c' if deep_stem else 'ResNet'}-{depth}",
        depth=depth,
        deep_stem=deep_stem,
        converter='depth_pixpro_to_mmseg',
        epoch=src_meta.get('epoch'),
        iter=src_meta.get('iter'))
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    check_destination(src, dst, force)  # again: it may have appeared
    if fmt == 'mmseg':
        atomic_torch_save({'state_dict': backbone, 'meta': meta}, dst)
    else:
        atomic_torch_save(backbone, dst)
    return dict(
        depth=depth,
        deep_stem=deep_stem,
        num_keys=len(backbone),
        missing=missing,
        unexpected=unexpected)
