"""The GPU recipe against official PixPro's rules (zdaxie/PixPro:
tools/pixpro_base_r50_100ep.sh, contrast/lars.py, contrast/resnet.py,
contrast/lr_scheduler.py), checked on each built config, and the generic
mechanisms the configs use, checked on hand-made models."""
import glob
import os.path as osp

import math

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

from mmpretrain.models.backbones.resnet import Bottleneck
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from projects.depth_pixpro.device import adapt_cfg_for_device

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
GPU_CONFIGS = sorted(
    path for path in glob.glob(osp.join(REPO, 'configs', '*.py')) +
    glob.glob(osp.join(REPO, 'configs', 'ablations', '*.py'))
    if '_synthetic' not in osp.basename(path))
CPU_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*_synthetic.py')))

# PixPro: lr = 1.0 x batch / 256, weight decay 1e-5, LARS momentum 0.9
BASE_LR_PER_256 = 1.0
WEIGHT_DECAY = 1e-5


def _param_groups(optimizer):
    """{parameter: its group}, every parameter in exactly one group."""
    groups = {}
    for group in optimizer.param_groups:
        for param in group['params']:
            assert param not in groups, 'a parameter in two groups'
            groups[param] = group
    return groups


def _check_1d_excluded(model, optimizer, weight_decay):
    """Every trainable 1-D parameter: wd 0 and LARS-excluded; every other
    trainable parameter: the base weight decay and LARS adaptation."""
    groups = _param_groups(optimizer)
    trainable = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
    assert len(groups) == len(trainable)
    n_flat = 0
    for name, param in trainable:
        group = groups[param]
        if param.ndim == 1:
            n_flat += 1
            assert group['weight_decay'] == 0., name
            assert group['lars_exclude'] is True, name
        else:
            assert group['weight_decay'] == weight_decay, name
            assert not group.get('lars_exclude', False), name
    return n_flat


# ---------------------------------------------------------------------------
# The mechanism: Exclude1DParamsOptimWrapperConstructor
# ---------------------------------------------------------------------------
class _Toy(nn.Module):
    """Biases, a BN inside a Sequential (no telling name), a LayerNorm, a
    frozen parameter and a 2-D weight."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1)
        self.block = nn.Sequential(nn.Conv2d(3, 3, 1, bias=False),
                                   nn.BatchNorm2d(3))
        self.ln = nn.LayerNorm(3)
        self.fc = nn.Linear(3, 2)
        self.frozen = nn.Parameter(torch.ones(4), requires_grad=False)


def _build(model, optimizer, **wrapper):
    init_default_scope('mmpretrain')
    return build_optim_wrapper(
        model,
        dict(type='OptimWrapper', optimizer=optimizer,
             constructor='Exclude1DParamsOptimWrapperConstructor',
             **wrapper)).optimizer


def test_constructor_excludes_every_1d_parameter():
    model = _Toy()
    optimizer = _build(
        model, dict(type='PixProLARS', lr=4.0, momentum=0.9,
                    weight_decay=1e-5))
    n_flat = _check_1d_excluded(model, optimizer, 1e-5)
    # conv.bias, block.1.weight/bias, ln.weight/bias, fc.bias
    assert n_flat == 6
    groups = _param_groups(optimizer)
    assert model.frozen not in groups
    assert groups[model.block[1].weight]['lars_exclude'] is True


def test_constructor_keeps_paramwise_lr_and_overrides_its_decay():
    """custom_keys still set lr (and the decay of >1-D parameters); the 1-D
    rule wins over a custom decay."""
    model = _Toy()
    optimizer = _build(
        model, dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
        paramwise_cfg=dict(custom_keys={
            'fc': dict(lr_mult=0.5, decay_mult=2.)}))
    groups = _param_groups(optimizer)
    assert groups[model.fc.weight]['lr'] == pytest.approx(0.05)
    assert groups[model.fc.weight]['weight_decay'] == pytest.approx(2e-4)
    assert groups[model.fc.bias]['lr'] == pytest.approx(0.05)
    assert groups[model.fc.bias]['weight_decay'] == 0.
    assert groups[model.conv.weight]['weight_decay'] == pytest.approx(1e-4)


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
    assert _check_1d_excluded(model, optimizer, WEIGHT_DECAY) > 0


@pytest.mark.parametrize('path', [
    osp.join(REPO, 'configs', 'depth_pixpro_scannet.py'),
    osp.join(REPO, 'configs', 'ablations',
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
    assert _check_1d_excluded(model, optimizer, WEIGHT_DECAY) > 0


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
INSTANCE_CONFIG = osp.join(REPO, 'configs', 'ablations',
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


def _mlp2d(x, convs, norm):
    """PixPro's MLP2d by hand: 1x1 conv, BN (batch statistics), ReLU, 1x1
    conv, on every pixel."""
    first, second = convs

    def per_channel(param):
        return param.to(x.dtype).view(1, -1, 1, 1)

    y = torch.einsum('nchw,oc->nohw', x, first.weight[:, :, 0, 0].to(x))
    y = y + per_channel(first.bias)
    mean = y.mean(dim=(0, 2, 3), keepdim=True)
    var = y.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    y = (y - mean) / torch.sqrt(var + norm.eps)
    y = y * per_channel(norm.weight) + per_channel(norm.bias)
    y = torch.einsum('nchw,oc->nohw', y.clamp(min=0),
                     second.weight[:, :, 0, 0].to(x))
    return y + per_channel(second.bias)


def _mlp2d_of(projector):
    layers = projector.projectors[0]
    return lambda x: _mlp2d(x, (layers[0], layers[3]), layers[1])


def test_instance_loss_is_pixpros_by_hand():
    """loss_instance = w * sum over (q, k) of mean_n -2 cos(p_q, z'_k),
    p_q = avgpool(pred(proj(C5_q))) per pixel, z'_k = avgpool(proj'(C5'_k));
    pooling before the MLPs (the old branch) gives another value."""
    MessageHub.get_current_instance().update_info('max_iters', 10)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='DepthPixPro',
        backbone=dict(type='ResNet', depth=18, stem_channels=8,
                      base_channels=8, out_indices=(3, )),
        neck=dict(type='PixelProjector', in_channels=[64], hid_channels=32,
                  out_channels=16),
        head=dict(type='MultiScalePixelHead', in_channels=16),
        instance_neck=dict(type='PixelProjector', in_channels=[64],
                           hid_channels=24, out_channels=12),
        instance_head=dict(
            type='LatentPredictHead',
            predictor=dict(type='PooledPixelProjector', in_channels=[12],
                           hid_channels=20, out_channels=12),
            loss=dict(type='CosineSimilarityLoss', shift_factor=0.,
                      scale_factor=2.)),
        instance_loss_weight=0.5))
    model.train()
    views = [torch.randn(4, 3, 64, 64) for _ in range(2)]
    samples = []
    for _ in range(4):
        sample = DataSample()
        sample.set_field(torch.tensor([[0., 0., 1., 1.], [0., 0., .8, .8]]),
                         'coord')
        samples.append(sample)
    loss = model.loss(views, samples)['loss_instance']

    with torch.no_grad():
        proj = _mlp2d_of(model.instance_neck)
        pred = _mlp2d_of(model.instance_head.predictor)
        target_backbone, _, target_proj = model.target_net.module
        target_proj = _mlp2d_of(target_proj)
        c5 = [model.backbone(v)[-1].double() for v in views]
        c5_target = [target_backbone(v)[-1].double() for v in views]
        p = [pred(proj(x)).mean(dim=(2, 3)) for x in c5]
        z = [target_proj(x).mean(dim=(2, 3)) for x in c5_target]
        expected = sum(
            (-2 * nn.functional.cosine_similarity(p[q], z[k])).mean()
            for q, k in ((0, 1), (1, 0)))
        # pool first, then the MLPs (BYOL's NonLinearNeck order)
        pooled = [x.mean(dim=(2, 3), keepdim=True) for x in c5]
        pooled_target = [x.mean(dim=(2, 3), keepdim=True) for x in c5_target]
        p_first = [pred(proj(x)).flatten(1) for x in pooled]
        z_first = [target_proj(x).flatten(1) for x in pooled_target]
        pool_first = sum(
            (-2 * nn.functional.cosine_similarity(p_first[q],
                                                  z_first[k])).mean()
            for q, k in ((0, 1), (1, 0)))
    assert loss.item() == pytest.approx(0.5 * expected.item(), abs=1e-5)
    assert abs(expected.item() - pool_first.item()) > 1e-2
