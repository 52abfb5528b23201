"""The device adaptation of a config (projects/depth_pixpro/device.py)."""
import pytest
import torch
from mmengine.config import Config

from projects.depth_pixpro import device


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
def test_adapt_cfg_for_cpu_distributed():
    cfg = Config(
        dict(
            model=dict(
                backbone=dict(norm_cfg=dict(type='SyncBN')),
                neck=[dict(norm_cfg=dict(type='SyncBN', eps=1e-5))]),
            env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    message = device.adapt_cfg_for_device(cfg, 'pytorch')
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert cfg.model.neck[0].norm_cfg.type == 'BN'
    assert cfg.model.neck[0].norm_cfg.eps == 1e-5
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert '2 SyncBN -> BN' in message
    single = Config(dict(model=dict(norm_cfg=dict(type='SyncBN'))))
    device.adapt_cfg_for_device(single, 'none')
    assert single.model.norm_cfg.type == 'BN'
    assert 'model_wrapper_cfg' not in single


def test_setup_launch_shares_the_cpus(monkeypatch):
    """tools/train.py and tools/test.py set the threads through it."""
    from projects.depth_pixpro.utils.threads import (available_cpus,
                                                     main_process_threads)
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    saved = torch.get_num_threads()
    cfg = Config(dict(model=dict(), train_dataloader=dict(num_workers=3)))
    try:
        torch.set_num_threads(7)
        device.setup_launch(cfg, 'none')
        assert torch.get_num_threads() == main_process_threads(
            available_cpus(), 3)
    finally:
        torch.set_num_threads(saved)


def test_setup_launch_names_a_missing_backend_package():
    """TensorBoard configured but not installed: one clear line before the
    run (mmengine: an ImportError traceback at the first logged value)."""
    from projects.depth_pixpro.utils.vis_backends import \
        missing_backend_packages
    cfg = Config(dict(model=dict(), visualizer=dict(vis_backends=[
        dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend'),
        dict(type='WandbVisBackend')])))
    assert missing_backend_packages(cfg, installed=lambda m: True) == []
    assert missing_backend_packages(
        cfg, installed=lambda m: m != 'tensorboard') == [
            'visualizer.vis_backends[1] is TensorboardVisBackend, which '
            'needs the tensorboard package: pip install tensorboard (or '
            'remove the backend)']
    assert missing_backend_packages(Config(dict(model=dict()))) == []
    import importlib.util
    if importlib.util.find_spec('tensorboard') is None:  # as in CI
        with pytest.raises(SystemExit, match='pip install tensorboard'):
            device.setup_launch(cfg, 'none')
