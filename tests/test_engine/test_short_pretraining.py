"""A short pretraining of the synthetic recipe through mmengine's Runner,
with the colour jitter's hue on every view (negative hue shifts included):
the run that failed under numpy 2 (mmcv's adjust_hue overflow). CI runs it
under numpy 2.x and 1.26 (marker ``numpy_compat``)."""
import math
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

pytestmark = pytest.mark.numpy_compat

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _jitter_every_view(cfg):
    """Every view's colour jitter applied (prob 1) with hue in [-0.5, 0.5];
    returns the jitter configs."""
    jitters = []
    for view in cfg.train_dataloader.dataset.pipeline[0].transforms:
        for transform in view:
            if transform.type == 'RandomApply' and \
                    transform.transforms[0].type == 'RGBDColorJitter':
                transform.prob = 1.
                transform.transforms[0].hue = 0.5
                jitters.append(transform.transforms[0])
    return jitters


def test_three_iterations_under_this_numpy(tmp_path):
    from projects.depth_pixpro.checkpoint import ensure_checkpoint_hooks
    from projects.depth_pixpro.device import build_runner
    cfg = Config.fromfile(osp.join(REPO, 'configs',
                                   'depth_pixpro_synthetic.py'))
    cfg.merge_from_dict({
        'train_cfg.max_iters': 3, 'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.num_samples': 12,
        'train_dataloader.dataset.img_size': 64,
        'default_hooks.logger.interval': 1, 'model.neck.hid_channels': 64,
        'model.neck.out_channels': 32, 'model.head.in_channels': 32,
        'randomness': dict(seed=0)})
    assert len(_jitter_every_view(cfg)) == 2
    cfg.work_dir = str(tmp_path)
    ensure_checkpoint_hooks(cfg)
    saved = dict(DefaultScope._instance_dict)
    try:
        runner = build_runner(cfg)
        runner.train()
    finally:
        DefaultScope._instance_dict.clear()
        DefaultScope._instance_dict.update(saved)
    assert runner.iter == 3
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 3
    assert all(math.isfinite(v) for v in losses), losses
    assert osp.exists(osp.join(str(tmp_path), 'iter_3.pth'))
    print(f'numpy {np.__version__}: losses {losses}')
