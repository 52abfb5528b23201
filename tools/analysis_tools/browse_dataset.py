"""Browse the training samples of a pretraining config as the model gets
them: for each sample, the image its views were cut from with each view's
crop box, the views themselves, and every depth map (one colour range, a
colour bar with the unit)::

    python tools/analysis_tools/browse_dataset.py configs/depth_pixpro_synthetic.py --num 4
    python tools/analysis_tools/browse_dataset.py configs/depth_pixpro_nyuv2-mini.py \
        --indices 0 9 --out work_dirs/browse

mmpretrain's ``browse_dataset.py`` shows the steps of an RGB pipeline; the
depth of this project's RGB-D views travels with their crop boxes, which is
what this draws. The pipeline runs as configured (loading steps, then
``RGBDMultiView``); ``--seed`` fixes the random crops. Writes
``<out>/<index>_<image name>.png``.
"""
import argparse
import copy
import os.path as osp
from typing import List, Optional

import projects.depth_pixpro  # noqa: F401,I001  (registers; shim first)
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from mmpretrain.registry import DATASETS

from projects.depth_pixpro.cfg_options import (CfgOptionsAction,
                                               load_config)
from projects.depth_pixpro.datasets.transforms import RGBDMultiView
from projects.depth_pixpro.visualization import (build_views_figure,
                                                 depth_label, figure_to_array,
                                                 save_rgb_png, to_display_rgb)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw training samples: image, crop boxes, views, depth')
    parser.add_argument('config', help='pretraining config file')
    which = parser.add_mutually_exclusive_group()
    which.add_argument('--indices', type=int, nargs='+',
                       help='sample indices of the train dataset')
    which.add_argument('--num', type=int, default=4,
                       help='the first NUM samples (default 4)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed of the view pipeline')
    parser.add_argument('--out', default='work_dirs/browse_dataset',
                        help='output folder')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def split_pipeline(dataset):
    """The dataset's transforms before :class:`RGBDMultiView` (loading) and
    the views transform itself."""
    transforms = list(dataset.pipeline.transforms)
    at = [i for i, t in enumerate(transforms) if isinstance(t, RGBDMultiView)]
    if not at:
        raise ValueError('the train pipeline has no RGBDMultiView: this tool '
                         'draws the paired RGB-D views of a pretraining '
                         'config')
    return Compose(transforms[:at[0]]), transforms[at[0]]


def sample_views(dataset, index: int) -> Optional[dict]:
    """The sample as the views see it and the views cut from it.

    Returns:
        dict | None: ``image`` (BGR), ``depth`` (or None), ``kind``,
        ``views`` (BGR), ``view_depths``, ``coords``, ``img_path``; None if
        a transform dropped the sample.
    """
    loading, views = split_pipeline(dataset)
    pipeline = dataset.pipeline
    dataset.pipeline = loading  # prepare_data: the item, then loading
    try:
        results = dataset.prepare_data(index)
    finally:
        dataset.pipeline = pipeline
    if results is None:
        return None
    whole = copy.deepcopy(results)
    out = views(results)
    if out is None:
        return None
    return dict(image=whole['img'], depth=whole.get('depth'),
                kind=out['depth_kind'], views=out['img'],
                view_depths=list(out['depth']) if out['has_depth'] else None,
                coords=list(out['coord']),
                img_path=whole.get('img_path'))


def main(argv: Optional[List[str]] = None) -> List[str]:
    """Run the tool; returns the written files."""
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    indices = args.indices if args.indices else range(
        min(args.num, len(dataset)))
    written = []
    for index in indices:
        if not 0 <= index < len(dataset):
            raise ValueError(f'--indices {index} is out of range: the '
                             f'dataset has {len(dataset)} samples')
        set_random_seed(args.seed + index)
        sample = sample_views(dataset, index)
        if sample is None:
            print(f'sample {index}: dropped by the pipeline')
            continue
        name = osp.splitext(osp.basename(sample['img_path'] or 'sample'))[0]
        has_depth = sample['view_depths'] is not None
        figure = build_views_figure(
            to_display_rgb(sample['image']),
            sample['depth'] if has_depth else None,
            [to_display_rgb(v) for v in sample['views']],
            sample['view_depths'], sample['coords'],
            title=f'{osp.basename(args.config)}  sample {index}  {name}',
            label=depth_label(sample['kind']))
        written.append(save_rgb_png(
            osp.join(args.out, f'{index}_{name}.png'),
            figure_to_array(figure)))
        print(f'saved {written[-1]}')
    return written


if __name__ == '__main__':
    main()
