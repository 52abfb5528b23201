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
