"""Extract the online ResNet backbone of a (Depth-)PixPro checkpoint.

The output loads into mmseg's ``ResNet`` (plain stem; ``ResNetV1c`` when the
pretrained network used a deep stem) with zero missing and zero unexpected
keys. The tool checks this itself: it builds the mmseg backbone, loads the
converted weights with a strict key check and prints the result.

Usage::

    python tools/model_converters/depth_pixpro_to_mmseg.py \
        work_dirs/depth_pixpro/epoch_100.pth work_dirs/depth_pixpro_r50.pth
    # then, in a configs/segmentation config:
    #   model.backbone.init_cfg = dict(type='Pretrained',
    #                                  checkpoint='work_dirs/depth_pixpro_r50.pth')

``--format torchvision`` writes a bare state dict with torchvision names
(``torchvision.models.resnet50().load_state_dict(sd, strict=False)`` then
misses only ``fc.*``).

Accepted inputs:

* OpenMMLab DepthPixPro checkpoints (``state_dict`` with ``backbone.*`` next to
  the momentum copy ``target_net.*`` and/or ``neck.*`` / ``head.*``). Only the
  ONLINE backbone is taken, never ``target_net``.
* Checkpoints of the original PixPro code (``model`` with
  ``module.encoder.*`` online keys; ``module.encoder_k.*`` is the target).

Converting is optional: a segmentation config can also load the raw
pretraining checkpoint with
``init_cfg=dict(type='Pretrained', checkpoint=RAW, prefix='backbone.')``.
"""
import argparse
import os
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, Tuple

from projects.depth_pixpro.checkpoint import (NotPixProCheckpointError,
                                              atomic_torch_save,
                                              backbone_state_dict,
                                              load_checkpoint_file)

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
    """Refuse to write over the source, or over any file without ``force``.

    Raises:
        DestinationError: ``dst`` is ``src`` (also through links), or exists
            and ``force`` is False.
    """
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


def convert(src: str, dst: str, fmt: str = 'mmseg',
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
        DestinationError: see :func:`check_destination`.
    """
    if fmt not in ('mmseg', 'torchvision'):
        raise ValueError(f'unknown format {fmt!r}: use mmseg or torchvision')
    check_destination(src, dst, force)
    checkpoint = load_checkpoint_file(src, map_location='cpu')
    backbone = backbone_state_dict(
        checkpoint, source=src, pretraining_only=True)
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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Extract the online backbone of a DepthPixPro/PixPro '
        'checkpoint for mmseg (or torchvision).')
    parser.add_argument('src', help='pretraining checkpoint')
    parser.add_argument('dst', help='output file')
    parser.add_argument(
        '--format',
        default='mmseg',
        choices=['mmseg', 'torchvision'],
        help='mmseg: {"state_dict", "meta"}; torchvision: bare state dict')
    parser.add_argument(
        '--force',
        action='store_true',
        help='replace an existing output file (never the input)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        summary = convert(args.src, args.dst, args.format, args.force)
    except (NotPixProCheckpointError, RuntimeError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    arch = 'ResNetV1c' if summary['deep_stem'] else 'ResNet'
    print(f'{args.src} -> {args.dst} ({args.format}): {summary["num_keys"]} '
          f'keys; mmseg {arch}-{summary["depth"]} strict load: 0 missing, '
          '0 unexpected keys')
    return 0


if __name__ == '__main__':
    sys.exit(main())
