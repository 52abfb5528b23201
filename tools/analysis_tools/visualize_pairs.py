"""Show which pixel pairs are positives: spatial test vs spatial + depth.

Builds the config's training dataset (its pipeline as configured), takes one
sample, and draws a query cell of view 1 with its positive partners in view 2
under PixPro's spatial test alone and with each pair filter of the config's
head (depth, normals), computed with the head's own functions::

    python tools/analysis_tools/visualize_pairs.py \
        configs/depth_pixpro_synthetic.py --index 3 --out work_dirs/vis_pairs
    # a given cell (x=column, y=row of the feature grid), a given grid size
    python tools/analysis_tools/visualize_pairs.py CONFIG --pixel 2 1 \
        --size 7 7
"""
import argparse
import os.path as osp
from typing import List, Optional

import projects.depth_pixpro  # noqa: F401,I001  (registers; compat first)
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from mmpretrain.registry import DATASETS, MODELS

from projects.depth_pixpro.cfg_options import CfgOptionsAction
from projects.depth_pixpro.models.utils import stack_depth
from projects.depth_pixpro.visualization import (
    compute_pair_masks, depth_label, describe_crop, draw_pair_figure,
    feature_grid_size, pair_counts, save_rgb_png, select_query_cell,
    to_display_rgb)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw the positive pixel pairs of one training sample')
    parser.add_argument('config', help='pretraining config file')
    parser.add_argument('--index', type=int, default=0,
                        help='sample index in the train dataset')
    parser.add_argument('--pixel', type=int, nargs=2, metavar=('X', 'Y'),
                        help='query cell of view 1 on the feature grid '
                        '(column, row); default: the cell whose partners '
                        'the filters change most')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        help='feature grid; default: the backbone output '
                        'of the head\'s first scale level for the view size')
    parser.add_argument('--scale-index', type=int, default=0,
                        help='which of the head\'s scales (spatial T, '
                        'filter thresholds) to use')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed of the view pipeline')
    parser.add_argument('--out', default='work_dirs/vis_pairs',
                        help='output folder')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def load_sample(cfg: Config, index: int) -> dict:
    """One packed sample of the config's train dataset."""
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    if not 0 <= index < len(dataset):
        raise ValueError(f'--index {index} is out of range: the dataset has '
                         f'{len(dataset)} samples')
    sample = dataset[index]
    if not isinstance(sample.get('inputs'), list) or \
            len(sample['inputs']) != 2:
        raise ValueError('the pipeline must give 2 views (RGBDMultiView + '
                         'PackRGBDInputs), got inputs of type '
                         f'{type(sample.get("inputs")).__name__}')
    if 'coord' not in sample['data_samples']:
        raise ValueError('the data sample carries no "coord"; use '
                         'RGBDMultiView + PackRGBDInputs in the pipeline')
    return sample


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the tool.

    Returns:
        dict: ``out`` (PNG path), ``pairs`` (:class:`PairMasks`), ``cell``
        (row, col), ``coord`` [1, 2, 4] and ``depth`` ([1, 2, h, w] or
        None) of the drawn sample.
    """
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    set_random_seed(args.seed)

    sample = load_sample(cfg, args.index)
    data = sample['data_samples']
    images = [to_display_rgb(v) for v in sample['inputs']]
    coord = torch.as_tensor(data.coord).float()[None]
    # depth [1, 2, h, w] (None without depth) and its kind / image range
    depth, depth_meta = stack_depth([data])

    head = MODELS.build(cfg.model.head)
    if not 0 <= args.scale_index < len(head.scales):
        raise ValueError(f'--scale-index {args.scale_index}: the head has '
                         f'{len(head.scales)} scale(s)')
    scale = head.scales[args.scale_index]
    if args.size:
        size = tuple(args.size)
    else:
        backbone = MODELS.build(cfg.model.backbone)
        size = feature_grid_size(backbone, images[0].shape[:2],
                                 scale['level'])
    pairs = compute_pair_masks(coord, depth, size, scale['spatial_thresh'],
                               head.filters, scale, depth_meta=depth_meta)
    cell = (args.pixel[1], args.pixel[0]) if args.pixel else \
        select_query_cell(pairs)

    title = (f'{osp.basename(args.config)}  sample {args.index}  '
             f'grid {size[0]}x{size[1]}\nview 1: {describe_crop(coord[0, 0])}'
             f'   view 2: {describe_crop(coord[0, 1])}')
    figure = draw_pair_figure(
        images, depth[0].numpy() if depth is not None else None, pairs,
        cell, title=title,
        label=depth_label(data.metainfo.get('depth_kind', 'metric')))
    out = save_rgb_png(osp.join(args.out, f'pairs_{args.index}.png'),
                       figure)

    total = pair_counts(pairs)
    at_cell = pair_counts(pairs, cell=cell)
    print(f'grid {size[0]}x{size[1]}, query cell x={cell[1]} y={cell[0]}')
    for name in pairs.names:
        print(f'  {pairs.labels[name]:<24} all pairs: {total[name]:>5}   '
              f'partners of the cell: {at_cell[name]:>3}')
    if total['spatial'] == 0:
        print('  the two views do not overlap at this threshold; try '
              'another --index or --seed')
    print(f'saved {out}')
    return dict(out=out, pairs=pairs, cell=cell, coord=coord, depth=depth)


if __name__ == '__main__':
    main()
