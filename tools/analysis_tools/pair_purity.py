"""Pair purity: what the filters do to the positive pairs of labelled data.

Samples crop pairs with CONFIG's own view pipeline on a labelled RGB-D
dataset, puts both views on the model's feature grid and, for each scale of
the head (its spatial threshold T) and each filter setting (relative depth
test with each cell statistic and a tau sweep, absolute and normalised
modes, the same-surface test, the normal filter), counts

  purity = P(same class | kept), recall = P(kept | same-class spatial pair)

and the kept pairs per image. No training; about a minute on CPU::

    python tools/analysis_tools/pair_purity.py \\
        configs/depth_pixpro_resnet50_8xb128-lars-coslr-100e_nyuv2.py \\
        --dataset ../shared/data/nyuv2_mini --pairs 300
    python tools/analysis_tools/pair_purity.py \\
        configs/depth_pixpro_synthetic.py --dataset synthetic
    # any segmentation dataset with depth beside its images
    python tools/analysis_tools/pair_purity.py CONFIG \\
        --dataset configs/segmentation/fcn_r50_scannet.py

Writes ``<out>/pair_purity.md`` (the table also goes to stdout),
``pair_purity.json`` (every count) and ``pair_purity.png`` (purity vs recall,
one curve per filter family).
"""
import argparse
import json
import os.path as osp
from typing import List, Optional

import projects.depth_pixpro  # noqa: F401,I001  (registers everything)
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from mmengine.utils import ProgressBar
from mmpretrain.registry import MODELS, TRANSFORMS

from projects.depth_pixpro.cfg_options import CfgOptionsAction
from projects.depth_pixpro.datasets.labelled_frames import (LabelledFrames,
                                                            RenderedFrames)
from projects.depth_pixpro.evaluation import (FilterSetting, PurityResult,
                                              ScaleSpec, count_view_pair,
                                              default_settings,
                                              sample_labelled_views)
from projects.depth_pixpro.models.utils import DepthMeta
from projects.depth_pixpro.utils.atomic import atomic_write_bytes
from projects.depth_pixpro.visualization import (feature_grid_size,
                                                 plot_purity_recall)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Purity and recall of the positive pixel pairs of each '
        'filter setting on a labelled RGB-D dataset (no training)')
    parser.add_argument('config',
                        help='pretraining config (view pipeline, '
                        'backbone stride, head scales)')
    parser.add_argument('--dataset',
                        required=True,
                        help="'synthetic' (the config's synthetic rooms), a "
                        'folder of NYUv2 frames in the nyuv2_mini layout '
                        '(rgb/, depth/, label/ with 13 classes, e.g. '
                        '../shared/data/nyuv2_mini), or a config file with '
                        '`dataset = dict(...)` or a segmentation config (its '
                        'test dataset)')
    parser.add_argument('--pairs',
                        type=int,
                        default=300,
                        help='crop pairs (frames are cycled)')
    parser.add_argument('--out',
                        default='work_dirs/pair_purity',
                        help='output folder')
    parser.add_argument('--seed',
                        type=int,
                        default=0,
                        help='seed of the view pipeline')
    parser.add_argument('--cfg-options',
                        nargs='+',
                        action=CfgOptionsAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def find_pretraining_dataset(cfg: Config) -> dict:
    """The pretraining dataset config of a config (through wrappers)."""
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset and 'pipeline' not in dataset:
        dataset = dataset['dataset']
    return dataset


def labelled_frames(spec: str, cfg: Config, num_frames: int = 300):
    """The frames ``--dataset`` names.

    Args:
        spec (str): ``'synthetic'`` (the config's synthetic rooms, seeds
            disjoint from its pretraining scenes), a folder of NYUv2 frames
            (``NYUv2Seg13Dataset``'s layout), or a config file with
            ``dataset = dict(...)`` or a segmentation config (its
            ``test_dataloader.dataset``).
        cfg (Config): The pretraining config (for ``'synthetic'``).
        num_frames (int): Scenes to render for ``'synthetic'``.

    Returns:
        LabelledFrames | RenderedFrames
    """
    if spec == 'synthetic':
        dataset = find_pretraining_dataset(cfg)
        kwargs = {}
        if dataset.get('type') == 'SyntheticRGBDDataset':
            kwargs = dict(img_size=dataset.get('img_size', 128),
                          difficulty=dataset.get('difficulty', 0.5),
                          render_options=dataset.get('render_options'))
        return RenderedFrames(num_frames, **kwargs)
    if osp.isdir(spec):
        return LabelledFrames(
            dict(type='NYUv2Seg13Dataset', data_root=spec, split=None))
    if not osp.isfile(spec):
        raise FileNotFoundError(
            f'--dataset {spec!r} is neither synthetic, a folder of NYUv2 '
            'frames nor a config file')
    data_cfg = Config.fromfile(spec)
    if 'dataset' in data_cfg:
        dataset = data_cfg.dataset
    elif 'test_dataloader' in data_cfg:
        dataset = data_cfg.test_dataloader.dataset
    else:
        raise KeyError(f'{spec} defines neither `dataset` nor '
                       '`test_dataloader.dataset`')
    return LabelledFrames(dict(dataset))


def markdown_table(result: PurityResult, digits: int = 3) -> str:
    """The counts as one markdown table: a row per setting, purity /
    recall / kept pairs per image for each scale."""
    head = ['setting']
    for scale in result.scales:
        head += [f'{scale.name} purity', 'recall', 'kept/img']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for s in result.settings:
        cells = [s.name]
        for scale in result.scales:
            c = result.get(scale.name, s.name)
            cells += [
                f'{c.purity:.{digits}f}', f'{c.recall:.{digits}f}',
                f'{c.kept_per_image:.1f}'
            ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def find_multiview(pipeline) -> dict:
    """The ``RGBDMultiView`` config of a pipeline."""
    for step in pipeline:
        if step.get('type') == 'RGBDMultiView':
            return step
    raise ValueError('the pretraining pipeline has no RGBDMultiView: the '
                     'tool samples views with it')


#: Keys of a head scale that are not filter thresholds.
SCALE_KEYS = ('level', 'spatial_thresh', 'weight')


def head_scales(cfg: Config, head, view_hw) -> List[ScaleSpec]:
    """The head's scales with their feature grids for views of ``view_hw``
    and their per-filter thresholds."""
    backbone = MODELS.build(cfg.model.backbone)
    grids = {
        level: feature_grid_size(backbone, view_hw, level)
        for level in {s['level']
                      for s in head.scales}
    }
    several = len(grids) > 1
    return [
        ScaleSpec(name=f'T={s["spatial_thresh"]:g}' +
                  (f' L{s["level"]}' if several else ''),
                  spatial_thresh=float(s['spatial_thresh']),
                  size=grids[s['level']],
                  overrides={
                      k: v
                      for k, v in s.items() if k not in SCALE_KEYS
                  }) for s in head.scales
    ]


def whole_image_meta(frame: dict) -> DepthMeta:
    """Depth facts of one frame: metric, with the whole image's range (the
    ``'normalized'`` mode's min-max, as ``PackRGBDInputs`` packs it)."""
    depth = torch.as_tensor(frame['depth']).float()
    valid = depth[depth > 0]
    span = [float(valid.min()), float(valid.max())] if valid.numel() else \
        [float('nan')] * 2
    return DepthMeta(has_depth=torch.tensor([bool(valid.numel())]),
                     kinds=('metric', ),
                     ranges=torch.tensor([span]),
                     paths=(frame.get('name'), ))


def main(argv: Optional[List[str]] = None) -> PurityResult:
    """Run the tool; returns the counts."""
    args = parse_args(argv)
    if args.pairs < 1:
        raise ValueError(f'--pairs must be >= 1, got {args.pairs}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    set_random_seed(args.seed)

    dataset = find_pretraining_dataset(cfg)
    multiview = TRANSFORMS.build(find_multiview(dataset['pipeline']))
    frames = labelled_frames(args.dataset, cfg, num_frames=args.pairs)
    head = MODELS.build(cfg.model.head)
    settings = default_settings(MODELS.build)
    if len(head.filters):  # what this config trains on, next to the sweep
        settings.insert(1, FilterSetting('as configured', list(head.filters),
                                         None))

    result = None
    progress = ProgressBar(args.pairs)
    for index in range(args.pairs):
        frame = frames[index % len(frames)]
        views = sample_labelled_views(multiview, frame['img'], frame['depth'],
                                      frame['label'])
        if views is None:
            progress.update()
            continue
        if result is None:  # the grids follow the views' size
            scales = head_scales(cfg, head, views['depth'].shape[-2:])
            result = PurityResult(scales, settings)
        with torch.no_grad():
            count_view_pair(result,
                            views['coord'][None],
                            views['depth'][None],
                            views['label'][None],
                            frames.num_classes,
                            depth_meta=whole_image_meta(frame))
        progress.update()
    print()
    if result is None:
        raise RuntimeError('the view pipeline dropped every sample')

    grids = ', '.join(f'{s.name}: {s.size[0]}x{s.size[1]}'
                      for s in result.scales)
    configured = ', '.join(
        f'{type(f).__name__}(thresh={f.thresh:g})' for f in head.filters)
    header = (f'{osp.basename(args.config)} on {frames.name}: {args.pairs} '
              f'crop pairs over {len(frames)} frames, seed {args.seed}, '
              f'{frames.num_classes} classes; grids {grids}; as configured: '
              f'{configured or "no filter"}')
    table = markdown_table(result)
    print(header)
    print(table)
    atomic_write_bytes(f'{header}\n\n{table}\n',
                       osp.join(args.out, 'pair_purity.md'))
    atomic_write_bytes(
        json.dumps(dict(config=args.config,
                        dataset=args.dataset,
                        pairs=args.pairs,
                        seed=args.seed,
                        frames=len(frames),
                        rows=result.rows()),
                   indent=1), osp.join(args.out, 'pair_purity.json'))
    png = plot_purity_recall(
        result,
        osp.join(args.out, 'pair_purity.png'),
        title=f'{osp.basename(args.config)} on {frames.name}: {args.pairs} '
        f'crop pairs, {len(frames)} frames')
    print(f'saved {png}')
    return result


if __name__ == '__main__':
    main()
