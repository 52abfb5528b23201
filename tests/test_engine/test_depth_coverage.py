"""Images whose depth has no valid pixel (all zero, NaN, inf, negative)
train as PixPro: the run summary and a warning say how many."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from helpers import SYNTHETIC_CFG
from projects.depth_pixpro.datasets.depth_io import write_depth_png
from projects.depth_pixpro.engine.hooks.run_summary_hook import (
    RunSummaryHook, run_summary)


def test_summary_line_counts_images_without_depth():
    line = run_summary(100, 10, 4, 1, filters=['DepthPairFilter()'],
                       depth_counts=(3, 4))
    assert line.endswith('filters: DepthPairFilter(); valid depth in 1 of 4 '
                         'images (first batch; without it an image trains as '
                         'PixPro)')
    # PixPro: depth is not used, not counted
    assert 'valid depth' not in run_summary(100, 10, 4, 1,
                                            depth_counts=(3, 4))
    with pytest.raises(ValueError, match='no_depth_warn_share'):
        RunSummaryHook(no_depth_warn_share=0)


def _write_folder(root):
    """Four images: depth all zero, all NaN, negative and inf, and one
    valid map (1.5 m), listed in a list file."""
    rgb = root / 'rgb'
    rgb.mkdir()
    lines = []
    depths = dict(zero=np.zeros((32, 32)), nan=np.full((32, 32), np.nan),
                  neg=np.where(np.eye(32) > 0, np.inf, -2.0),
                  ok=np.full((32, 32), 1.5))
    for name, depth in depths.items():
        cv2.imwrite(str(rgb / f'{name}.png'),
                    np.random.RandomState(0).randint(0, 255, (32, 32, 3),
                                                     np.uint8))
        if name in ('zero', 'ok'):
            path = f'{name}.png'
            write_depth_png(str(root / path), depth)
        else:
            path = f'{name}.npy'
            np.save(root / path, depth.astype(np.float32))
        lines.append(f'rgb/{name}.png {path}')
    (root / 'list.txt').write_text('\n'.join(lines) + '\n')


@pytest.mark.slow
def test_run_says_how_many_images_had_no_valid_depth(tmp_path):
    _write_folder(tmp_path)
    cfg = Config.fromfile(SYNTHETIC_CFG)
    pipeline = cfg.train_pipeline
    cfg.merge_from_dict({
        'train_cfg.max_iters': 2,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.sampler.shuffle': False,
        'default_hooks.checkpoint.interval': 100,
        'default_hooks.checkpoint.save_last': False,
        'default_hooks.run_summary.min_images': 4,
        'model.backbone.base_channels': 16,
        'model.backbone.stem_channels': 16,
        'model.neck.in_channels': [128],
        'model.neck.hid_channels': 16,
        'model.neck.out_channels': 8,
        'model.head.in_channels': 8,
    })
    cfg.train_dataloader.dataset = dict(
        type='RGBDFolderDataset', data_root=str(tmp_path),
        ann_file='list.txt', depth_kind='metric',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadDepth')] +
        pipeline)
    cfg.custom_hooks = []
    cfg.work_dir = str(tmp_path / 'work')
    Runner.from_cfg(cfg).train()
    log = open(glob.glob(osp.join(cfg.work_dir, '*', '*.log'))[0]).read()
    # the filters stay listed, and the summary says the first batch (zero,
    # nan) had no valid depth
    assert 'filters: DepthPairFilter(' in log
    assert 'valid depth in 0 of 2 images (first batch' in log
    warning = ('3 of 4 training images (75%) had no valid depth (no depth '
               'map, or all zero, NaN, inf or negative), e.g. ')
    assert log.count(warning) == 2  # once when seen, once at the end
    assert 'rgb/zero.png' in log and 'rgb/neg.png' in log
    assert 'so far: the pair filters leave their pairs untested' in log
    assert 'in this run: they trained as PixPro' in log
