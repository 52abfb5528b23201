"""DenseProbeHook writing ``probe_miou`` during a real run on the
synthetic scenes."""
import pytest
from mmengine.config import Config

from helpers import SYNTHETIC_CFG
from projects.depth_pixpro.engine.hooks import DenseProbeHook
from projects.depth_pixpro.utils.scripts import read_scalars


def test_hook_rejects_bad_interval():
    with pytest.raises(ValueError, match='interval'):
        DenseProbeHook(interval=0)


@pytest.mark.slow
def test_probe_hook_writes_probe_miou(tmp_path):
    from mmengine.runner import Runner
    scenes = dict(size=(64, 64), cache_dir=str(tmp_path / 'scenes'))
    cfg = Config.fromfile(SYNTHETIC_CFG)
    cfg.merge_from_dict({
        'train_cfg.max_iters': 2,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.num_samples': 4,
        'train_dataloader.dataset.img_size': 64,
        'default_hooks.checkpoint.interval': 100,
        'default_hooks.checkpoint.save_last': False,
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
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = [h for h in runner.hooks if isinstance(h, DenseProbeHook)][0]
    assert len(hook.seconds) == 1  # iteration 2 only
    probes = [r for r in read_scalars(cfg.work_dir) if 'probe_miou' in r]
    assert [r['step'] for r in probes] == [2]
    assert 0 < probes[0]['probe_miou'] <= 100
    assert runner.model.backbone.training  # training state restored
    # the logged value is the probe of the final weights
    assert hook.probe(runner.model) == pytest.approx(
        probes[0]['probe_miou'], abs=1e-4)
