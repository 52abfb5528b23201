"""DenseProbeHook writing ``probe_miou`` during a real run on the
synthetic scenes."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from helpers import SYNTHETIC_CFG
from projects.depth_pixpro.checkpoint import ensure_checkpoint_hooks
from projects.depth_pixpro.engine.hooks import DenseProbeHook
from projects.depth_pixpro.utils.scripts import read_scalars


def test_hook_rejects_bad_interval():
    with pytest.raises(ValueError, match='interval'):
        DenseProbeHook(interval=0)


class _KeepStartWeights(Hook):
    """A hook (first at ``before_train``) that copies the weights the run
    starts from."""

    priority = 'HIGHEST'

    def __init__(self):
        self.state = None

    def before_train(self, runner):
        self.state = copy.deepcopy(runner.model.state_dict())


def _probe_cfg(tmp_path, max_iters):
    scenes = dict(size=(64, 64), cache_dir=str(tmp_path / 'scenes'))
    cfg = Config.fromfile(SYNTHETIC_CFG)
    cfg.merge_from_dict({
        'train_cfg.max_iters': max_iters,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.num_samples': 4,
        'train_dataloader.dataset.img_size': 64,
        'default_hooks.checkpoint.interval': 2,
        'model.neck.hid_channels': 16,
        'model.neck.out_channels': 8,
        'model.head.in_channels': 8,
    })
    cfg.custom_hooks = [
        dict(type='DenseProbeHook', interval=2, batch_size=3,
             train_dataset=dict(type='SyntheticSceneSegDataset',
                                num_images=4, **scenes,
                                pipeline=[dict(type='LoadImageFromFile'),
                                          dict(type='LoadAnnotations'),
                                          dict(type='PackSegInputs')]),
             val_dataset=dict(type='SyntheticSceneSegDataset', num_images=2,
                              first_seed=100_000, **scenes,
                              pipeline=[dict(type='LoadImageFromFile'),
                                        dict(type='LoadAnnotations'),
                                        dict(type='PackSegInputs')]))
    ]
    cfg.work_dir = str(tmp_path / 'work')
    ensure_checkpoint_hooks(cfg)  # as tools/train.py does
    return cfg


def _probe_hook(runner):
    return [h for h in runner.hooks if isinstance(h, DenseProbeHook)][0]


@pytest.mark.slow
def test_probe_hook_writes_probe_miou_and_its_reference(tmp_path):
    from mmengine.runner import Runner
    cfg = _probe_cfg(tmp_path, max_iters=2)
    runner = Runner.from_cfg(cfg)
    start = _KeepStartWeights()
    runner.register_hook(start)
    runner.train()
    hook = _probe_hook(runner)
    assert len(hook.seconds) == 1  # iteration 2 only
    probes = [r for r in read_scalars(cfg.work_dir) if 'probe_miou' in r]
    assert [r['step'] for r in probes] == [0, 2]
    assert 0 < probes[1]['probe_miou'] <= 100
    assert runner.model.backbone.training  # training state restored
    # the logged value is the probe of the final weights
    assert hook.probe(runner.model) == pytest.approx(
        probes[1]['probe_miou'], abs=1e-4)
    # the reference (step 0) is the probe of the weights it started from
    assert hook.start_label == 'random init'
    assert hook.start_miou == probes[0]['probe_miou']
    runner.model.load_state_dict(start.state)
    assert hook.probe(runner.model) == pytest.approx(hook.start_miou,
                                                     abs=1e-4)
    # ... kept in the checkpoint, which loads weights-only
    meta = torch.load(osp.join(cfg.work_dir, 'iter_2.pth'),
                      weights_only=True)['meta']
    assert meta['probe_miou_start'] == hook.start_miou
    assert meta['probe_start'] == 'random init'

    # resumed: the reference comes from the checkpoint, not a new probe
    resumed_cfg = _probe_cfg(tmp_path, max_iters=4)
    resumed_cfg.resume = True
    resumed_cfg.load_from = osp.join(cfg.work_dir, 'iter_2.pth')
    resumed = Runner.from_cfg(resumed_cfg)
    calls = []
    resumed_hook = _probe_hook(resumed)
    probe = resumed_hook.probe
    resumed_hook.probe = lambda model: calls.append(1) or probe(model)
    resumed.train()
    assert len(calls) == 1  # iteration 4; none at the start
    assert resumed_hook.start_miou == hook.start_miou
