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
  the momentum copy ``target_net.*``). Only the ONLINE backbone is taken,
  never ``target_net``.
* Checkpoints of the original PixPro code (``model`` with
  ``module.encoder.*`` online keys; ``module.encoder_k.*`` is the target).

Refused: a segmentation model, a classifier (``backbone.*`` without a
momentum target), a bare backbone, NaN or infinite weights (a diverged run),
and a destination that is the input, a folder, or an existing file without
``--force``.

Converting is optional: a segmentation config can also load the raw
pretraining checkpoint with
``init_cfg=dict(type='Pretrained', checkpoint=RAW, prefix='backbone.')``.
The conversion itself is ``projects/depth_pixpro/checkpoint/conversion.py``.
"""
import argparse
import sys

from projects.depth_pixpro.checkpoint import NotPixProCheckpointError
from projects.depth_pixpro.checkpoint.conversion import convert_to_mmseg


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
        summary = convert_to_mmseg(args.src, args.dst, args.format,
                                   args.force)
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
