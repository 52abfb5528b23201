"""The GPU recipe against official PixPro's rules (zdaxie/PixPro:
tools/pixpro_base_r50_100ep.sh, contrast/lars.py, contrast/resnet.py,
contrast/lr_scheduler.py), checked on each built config."""
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

from helpers import REPO_ROOT
from mmpretrain.models.backbones.resnet import Bottleneck
from mmpretrain.registry import MODELS
from param_groups import check_1d_excluded
from project_configs import PRETRAINING, config_paths, is_gpu_recipe
from projects.depth_pixpro.device import adapt_cfg_for_device


GPU_CONFIGS = config_paths(name for name in PRETRAINING
                           if is_gpu_recipe(name))


CPU_CONFIGS = config_paths(name for name in PRETRAINING
                           if not is_gpu_recipe(name))


# PixPro: lr = 1.0 x batch / 256, weight decay 1e-5, LARS momentum 0.9
BASE_LR_PER_256 = 1.0


WEIGHT_DECAY = 1e-5


# ---------------------------------------------------------------------------
# Each config
# ---------------------------------------------------------------------------
def _built(path):
    cfg = Config.fromfile(path)
    init_default_scope('mmpretrain')
    return cfg, MODELS.build(cfg.model)


def _online_norms(model):
    """(name, module) of every batch norm outside the momentum target."""
    return [(name, module) for name, module in model.named_modules()
            if isinstance(module, _BatchNorm)
            and not name.startswith('target_net')]


@pytest.mark.parametrize('path', GPU_CONFIGS, ids=osp.basename)
def test_gpu_config_follows_pixpro(path):
    """Norm layers, init, PixPro's hyper-parameters and parameter groups."""
    cfg, model = _built(path)
    # SyncBN in every BN of the online network (backbone, projector,
    # head, instance branch), as PixPro's convert_sync_batchnorm(model)
    norms = _online_norms(model)
    assert {name.split('.')[0] for name, _ in norms} >= {'backbone', 'neck'}
    for name, norm in norms:
        assert isinstance(norm, nn.SyncBatchNorm), name
    assert cfg.model.head.ppm.norm_cfg.type == 'SyncBN'  # 2-layer variant
    # momentum 0.99 -> 1, PPM gamma 2 with one transform layer, T = 0.7
    assert (cfg.model.base_momentum, cfg.model.get('end_momentum', 0.)) == (
        0.01, 0.)
    for ppm in model.head.propagations.values():
        assert isinstance(ppm.value_transform, nn.Conv2d)  # one layer
        assert ppm.gamma == 2.
    assert 0.7 in [s['spatial_thresh'] for s in cfg.model.head.scales]
    # zero-gamma: every bottleneck's bn3 (mmpretrain: norm3) starts at 0,
    # every other BN at gamma 1
    model.init_weights()
    blocks = [m for m in model.backbone.modules() if isinstance(m, Bottleneck)]
    assert len(blocks) == 16  # ResNet-50: 3 + 4 + 6 + 3
    last = {id(block.norm3) for block in blocks}
    for name, norm in norms:
        expected = 0. if id(norm) in last else 1.
        assert torch.all(norm.weight == expected), name
    # LARS lr 1.0 x batch / 256 at the configured batch (8 GPUs x 128)
    optim = cfg.optim_wrapper.optimizer
    batch = 8 * cfg.train_dataloader.batch_size
    assert batch == cfg.auto_scale_lr.base_batch_size == 1024
    assert optim.type == 'PixProLARS' and optim.momentum == 0.9
    assert optim.lr == BASE_LR_PER_256 * batch / 256 == 4.0
    assert optim.weight_decay == WEIGHT_DECAY
    assert cfg.train_dataloader.drop_last is True  # PixPro's loader
    # every 1-D parameter of the online network: no decay, no LARS
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    assert check_1d_excluded(model, optimizer, WEIGHT_DECAY) > 0


@pytest.mark.parametrize('path', [
    osp.join(REPO_ROOT, 'configs', 'depth_pixpro_scannet.py'),
    osp.join(REPO_ROOT, 'configs', 'ablations',
             'depth_pixpro_scannet_instance.py')], ids=osp.basename)
def test_gpu_config_without_cuda_has_plain_bn(path, monkeypatch):
    """tools/train.py's device adaptation: every SyncBN becomes BN."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    n_sync = len(_online_norms(_built(path)[1]))
    cfg = Config.fromfile(path)
    adapt_cfg_for_device(cfg, 'none')
    norms = _online_norms(MODELS.build(cfg.model))
    assert len(norms) == n_sync
    for name, norm in norms:
        assert isinstance(norm, nn.BatchNorm2d), name


@pytest.mark.parametrize('path', CPU_CONFIGS, ids=osp.basename)
def test_cpu_config_excludes_1d_parameters(path):
    cfg, model = _built(path)
    for name, norm in _online_norms(model):
        assert isinstance(norm, nn.BatchNorm2d), name
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    assert check_1d_excluded(model, optimizer, WEIGHT_DECAY) > 0


def _official_lr(step, base_lr, warmup_iters, total_iters, eta_min=1e-6):
    """contrast/lr_scheduler.py: GradualWarmupScheduler(multiplier=100)
    then CosineAnnealingLR(eta_min=1e-6), both per iteration."""
    if step <= warmup_iters:
        return base_lr / 100 * (99 * step / warmup_iters + 1)
    t = (step - warmup_iters) / (total_iters - warmup_iters)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t)) / 2


def _simulated_lrs(cfg, epoch_length):
    """The lr of every training iteration, as the runner's
    ParamSchedulerHook steps the configured schedulers."""
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [
        PARAM_SCHEDULERS.build(
            dict(scheduler, optimizer=optimizer, epoch_length=epoch_length))
        for scheduler in cfg.param_scheduler
    ]
    lrs = []
    for _ in range(cfg.train_cfg.max_epochs * epoch_length):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()  # no gradient: a no-op, in the runner's order
        for scheduler in schedulers:
            scheduler.step()
    return lrs


@pytest.mark.parametrize('path', GPU_CONFIGS, ids=osp.basename)
def test_gpu_schedule_is_pixpro(path):
    """5 warm-up epochs from lr / 100, then cosine to 1e-6, per iteration:
    within one warm-up step of official PixPro at every iteration (mmengine's
    LinearLR reaches the peak one iteration before the warm-up ends)."""
    cfg = Config.fromfile(path)
    epoch_length = 40
    base_lr = cfg.optim_wrapper.optimizer.lr
    assert cfg.train_cfg.max_epochs == 100
    warmup, total = 5 * epoch_length, 100 * epoch_length
    lrs = _simulated_lrs(cfg, epoch_length)
    assert len(lrs) == total
    assert lrs[0] == pytest.approx(base_lr / 100, rel=1e-9)
    assert lrs[warmup - 1] == pytest.approx(base_lr, rel=1e-9)
    assert max(lrs) == pytest.approx(base_lr, rel=1e-9)
    assert all(a < b for a, b in zip(lrs[:warmup - 1], lrs[1:warmup]))
    assert all(a > b for a, b in zip(lrs[warmup:-1], lrs[warmup + 1:]))
    for step, lr in enumerate(lrs):
        official = _official_lr(step, base_lr, warmup, total)
        tol = base_lr / warmup if step < warmup else 1e-9 * official
        assert abs(lr - official) <= tol, step
    # the cosine ends at 1e-6: its last value is one step before the end
    assert cfg.param_scheduler[-1].eta_min == 1e-6
    assert 1e-6 < lrs[-1] < 1e-6 + base_lr * 1e-5


# ---------------------------------------------------------------------------
# The "+instance" branch
# ---------------------------------------------------------------------------
INSTANCE_CONFIG = osp.join(REPO_ROOT, 'configs', 'ablations',
                           'depth_pixpro_scannet_instance.py')


def test_instance_config_is_pixpros():
    """Conv MLPs with biases for projector and predictor, the predictor
    pooling after it, PixPro's -2 cos loss."""
    cfg, model = _built(INSTANCE_CONFIG)
    neck, head = model.instance_neck, model.instance_head
    assert type(neck).__name__ == 'PixelProjector'
    assert type(head.predictor).__name__ == 'PooledPixelProjector'
    for branch, channels in ((neck, (2048, 4096, 256)),
                             (head.predictor, (256, 4096, 256))):
        convs = [m for m in branch.modules() if isinstance(m, nn.Conv2d)]
        assert [(c.in_channels, c.out_channels) for c in convs] == list(
            zip(channels[:-1], channels[1:]))
        assert all(c.kernel_size == (1, 1) and c.bias is not None
                   for c in convs)
    assert (head.loss_module.shift_factor,
            head.loss_module.scale_factor) == (0., 2.)
    assert cfg.model.instance_loss_weight == 1.
