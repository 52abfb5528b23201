"""DepthPixPro: the momentum target (schedule, update before its forward,
BN buffers), real train steps, the inputs it accepts, the depth facts it
passes on, and PixPro's "+instance" branch by hand."""
import inspect
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from pixpro_reference import ref_spatial_ratio
from projects.depth_pixpro.models.algorithms import DepthPixPro


SIZE = 64


def model_cfg(**kwargs):
    cfg = dict(
        type='DepthPixPro',
        backbone=dict(type='ResNet', depth=18, stem_channels=8,
                      base_channels=8, out_indices=(2, 3)),
        neck=dict(type='PixelProjector', in_channels=[32, 64],
                  hid_channels=32, out_channels=16),
        head=dict(type='MultiScalePixelHead', in_channels=16, levels=2,
                  scales=[dict(level=-1, spatial_thresh=0.7),
                          dict(level=0, spatial_thresh=0.7, weight=0.5)],
                  filters=[dict(type='DepthPairFilter', thresh=0.1)]),
        base_momentum=0.01)
    cfg.update(kwargs)
    return cfg


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(model_cfg(**kwargs))


def make_batch(n=4, with_depth=True, seed=0):
    gen = torch.Generator().manual_seed(seed)
    views = [torch.randint(0, 256, (n, 3, SIZE, SIZE), generator=gen,
                           dtype=torch.uint8) for _ in range(2)]
    samples = []
    for i in range(n):
        sample = DataSample()
        sample.set_field(
            torch.tensor([[0.0, 0.0, 0.8, 0.8], [0.9, 0.1, 0.1 + 0.05 * i,
                                                 1.0]]), 'coord')
        if with_depth:
            # a depth step (1 m | 3 m) with holes
            depth = torch.ones(2, SIZE, SIZE)
            depth[..., SIZE // 2:] = 3.
            depth[torch.rand(2, SIZE, SIZE, generator=gen) < 0.2] = 0.
            sample.set_field(depth, 'depth')
        samples.append(sample)
    return dict(inputs=views, data_samples=samples)


def ref_block_depth(depth, grid):
    """Valid-aware mean depth of each grid cell (cells divide the map)."""
    height, width = depth.shape
    gh, gw = grid
    out = []
    for h in range(gh):
        for w in range(gw):
            block = depth[h * height // gh:(h + 1) * height // gh,
                          w * width // gw:(w + 1) * width // gw]
            valid = block[block > 0]
            out.append(valid.mean().item() if len(valid) else 0.)
    return out


def ref_pair_counts(coord, depth, grid, thresh=0.7, tau=0.1):
    """Positive pairs per (view order, image): spatial only and spatial AND
    relative depth (invalid passes), by loops from the design formulas."""
    spatial, final = [], []
    for q, k in ((0, 1), (1, 0)):
        for n in range(coord.shape[0]):
            ratio = ref_spatial_ratio(coord[n, q], coord[n, k], grid)
            zq = ref_block_depth(depth[n, q], grid)
            zk = ref_block_depth(depth[n, k], grid)
            s_count = f_count = 0
            for i, row in enumerate(ratio):
                for j, r in enumerate(row):
                    assert abs(r - thresh) > 1e-5  # no tie: well defined
                    if r >= thresh:
                        continue
                    s_count += 1
                    zi, zj = zq[i], zk[j]
                    f_count += zi <= 0 or zj <= 0 or \
                        abs(zi - zj) / max(zi, zj) < tau
            spatial.append(s_count)
            final.append(f_count)
    return spatial, final


def batch_fields(samples):
    coord = torch.stack([s.coord for s in samples]).float()
    depth = torch.stack([torch.as_tensor(s.depth) for s in samples]).float()
    return coord, depth


def assert_pair_statistics(log_vars, samples, grid):
    """The logged statistics of the first scale, against the loops."""
    coord, depth = batch_fields(samples)
    spatial, final = ref_pair_counts(coord, depth, grid)
    n = coord.shape[0]
    assert log_vars['pos_spatial'].item() == pytest.approx(
        sum(spatial) / len(spatial))
    assert log_vars['pos_final'].item() == pytest.approx(
        sum(final) / len(final))
    assert log_vars['removed_by_filters'].item() == pytest.approx(
        1 - sum(final) / max(sum(spatial), 1))
    no_pos = sum(final[i] == 0 and final[n + i] == 0 for i in range(n))
    assert log_vars['imgs_no_pos'].item() == no_pos
    return spatial, final


@pytest.fixture
def max_iters():
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', 10)
    return 10


def momentum_at(model, step):
    """tau: fraction of the old target kept after an update at ``step``."""
    old, new = torch.zeros(1), torch.ones(1)
    model.target_net.avg_func(old, new, step)
    return 1. - old.item()


def test_momentum_schedule(max_iters):
    model = build()
    for step, expected in ((0, 0.99), (5, 0.995), (10, 1.0)):
        assert momentum_at(model, step) == pytest.approx(expected, abs=1e-9)
    tau = 1 - 0.01 * (math.cos(math.pi * 3 / 10) + 1) / 2
    assert momentum_at(model, 3) == pytest.approx(tau, abs=1e-9)


def test_train_steps_move_target_by_the_ema_rule(max_iters):
    model = build()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    online = lambda: {  # noqa: E731
        k: v.detach().clone()
        for k, v in model.named_parameters() if not k.startswith('target')
    }
    target = lambda: {  # noqa: E731
        k: v.detach().clone()
        for k, v in model.target_net.module.named_parameters()
    }
    prefix = {'0.': 'backbone.', '1.': 'neck.'}
    before = online()

    log_vars = model.train_step(make_batch(), wrapper)
    after_1 = online()
    changed = [k for k in before if not torch.equal(before[k], after_1[k])]
    assert len(changed) > len(before) // 2
    # first update copies the online weights as they were before the step
    for k, v in target().items():
        torch.testing.assert_close(v, before[prefix[k[:2]] + k[2:]])
    assert torch.isfinite(log_vars['loss'])
    torch.testing.assert_close(log_vars['loss'],
                               log_vars['loss_s0'] + log_vars['loss_s1'])
    assert {'pos_spatial', 'pos_final', 'removed_by_filters',
            'imgs_no_pos'} <= set(log_vars)

    target_1 = target()
    model.train_step(make_batch(seed=1), wrapper)
    tau = 1 - 0.01 * (math.cos(math.pi * 1 / 10) + 1) / 2
    moved = 0
    for k, v in target().items():
        src = after_1[prefix[k[:2]] + k[2:]]
        torch.testing.assert_close(v, tau * target_1[k] + (1 - tau) * src)
        moved += not torch.equal(v, target_1[k])
    assert moved > 0
    assert model.target_net.steps.item() == 2


def test_no_depth_equals_all_invalid_depth(max_iters):
    model = build()
    batch = model.data_preprocessor(make_batch(with_depth=False), True)
    no_depth = model.loss(batch['inputs'], batch['data_samples'])
    for sample in batch['data_samples']:
        sample.set_field(torch.zeros(2, SIZE, SIZE), 'depth')
    zeros = model.loss(batch['inputs'], batch['data_samples'])
    for key in no_depth:
        torch.testing.assert_close(zeros[key], no_depth[key])


def test_depth_changes_positives(max_iters):
    """The depth step (1 m | 3 m) removes exactly the pairs whose cells lie
    on different sides of it in their own views (first scale: C5, 2x2)."""
    model = build()
    batch = model.data_preprocessor(make_batch(), True)
    out = model.loss(batch['inputs'], batch['data_samples'])
    spatial, final = assert_pair_statistics(out, batch['data_samples'],
                                            (2, 2))
    assert sum(final) < sum(spatial)


def test_bad_data_samples_raise(max_iters):
    model = build()
    batch = model.data_preprocessor(make_batch(), True)
    samples = batch['data_samples']
    del samples[0].depth
    with pytest.raises(ValueError, match='depth'):
        model.loss(batch['inputs'], samples)
    with pytest.raises(ValueError, match='coord'):
        model.loss(batch['inputs'], [DataSample() for _ in samples])
    with pytest.raises(ValueError, match='view'):
        model.loss(batch['inputs'][:1], samples)


def test_extract_feat_and_checkpoint_keys():
    model = build()
    feats = model.extract_feat(torch.randn(2, 3, SIZE, SIZE))
    assert [f.shape[1:] for f in feats] == [(32, 4, 4), (64, 2, 2)]
    state = model.state_dict()
    # the layout the converters rely on: online modules, their momentum
    # copies under target_net.module.{0: backbone, 1: neck}, the head's PPMs
    parts = dict(backbone=model.backbone.state_dict(),
                 neck=model.neck.state_dict(),
                 head=model.head.state_dict())
    expected = {f'{name}.{k}' for name, sd in parts.items() for k in sd}
    expected |= {f'target_net.module.{i}.{k}'
                 for i, name in enumerate(('backbone', 'neck'))
                 for k in parts[name]}
    expected.add('target_net.steps')
    assert set(state) == expected
    for key in ('backbone.layer4.1.bn2.running_var',
                'target_net.module.0.layer4.1.conv2.weight'):
        assert state[key].shape == (64, ) if 'bn' in key else \
            state[key].shape == (64, 64, 3, 3)
    assert len([k for k in state if k.startswith('head.')]) == 4  # 2 PPMs


def build_with_instance(weight):
    return build(
        instance_neck=dict(type='NonLinearNeck', in_channels=64,
                           hid_channels=32, out_channels=16,
                           norm_cfg=dict(type='BN1d')),
        instance_head=dict(
            type='LatentPredictHead',
            loss=dict(type='CosineSimilarityLoss'),
            predictor=dict(type='NonLinearNeck', in_channels=16,
                           hid_channels=32, out_channels=16,
                           with_avg_pool=False, norm_cfg=dict(type='BN1d'))),
        instance_loss_weight=weight)


def test_instance_branch(max_iters):
    """Weighted and added to the pixel losses; the value itself is held
    against a hand computation in test_instance_loss_is_pixpros_by_hand."""
    log_vars = {}
    for weight in (0.5, 1.0):
        model = build_with_instance(weight)
        assert len(model.target_net.module) == 3
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        log_vars[weight] = model.train_step(make_batch(), wrapper)
    half, full = log_vars[0.5], log_vars[1.0]
    torch.testing.assert_close(half['loss_instance'],
                               0.5 * full['loss_instance'])
    torch.testing.assert_close(half['loss_s0'], full['loss_s0'])
    # the loss is not a constant: CosineSimilarityLoss is -cos, in (-2, 2)
    assert 0.01 < abs(full['loss_instance'].item()) < 2.
    torch.testing.assert_close(
        half['loss'], half['loss_s0'] + half['loss_s1'] +
        half['loss_instance'])
    with pytest.raises(ValueError, match='together'):
        build(instance_neck=dict(type='NonLinearNeck', in_channels=64,
                                 hid_channels=32, out_channels=16))


def test_target_bn_uses_batch_stats_and_copies_running_buffers(max_iters):
    """Documented choice: target BN normalises with batch statistics in
    training (as PixPro); its running buffers follow the online net."""
    model = build()
    model.train()
    bn = model.target_net.module[0].bn1
    assert bn.training
    model.backbone.bn1.running_mean.fill_(0.25)
    model.target_net.update_parameters(model._online_encoder())
    torch.testing.assert_close(bn.running_mean,
                               model.backbone.bn1.running_mean)
    # running buffers do not enter a training-mode forward
    x = torch.randn(2, 3, SIZE, SIZE)
    out = model.target_net.module[0](x)[-1]
    bn.running_mean.fill_(7.)
    bn.running_var.fill_(3.)
    torch.testing.assert_close(model.target_net.module[0](x)[-1], out)


def test_train_step_on_the_rgbd_pipeline(max_iters):
    """Other engineers' dataset + view pipeline feed the model as is."""
    from mmengine.dataset import default_collate

    from mmpretrain.registry import DATASETS
    view = [dict(type='RGBDRandomResizedCrop', scale=SIZE,
                 crop_ratio_range=(0.3, 1.)),
            dict(type='RGBDRandomFlip', prob=0.5)]
    dataset = DATASETS.build(dict(
        type='SyntheticRGBDDataset', num_samples=2, img_size=96,
        pipeline=[dict(type='RGBDMultiView', transforms=[view, view],
                       num_views=[1, 1]),
                  dict(type='PackRGBDInputs')]))
    batch = default_collate([dataset[0], dataset[1]])
    model = build()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log_vars = model.train_step(batch, wrapper)
    # the packed coord and depth reach the head as the loops expect them
    samples = batch['data_samples']
    assert samples[0].coord.shape == (2, 4)
    assert tuple(samples[0].depth.shape) == (2, SIZE, SIZE)
    spatial, _ = assert_pair_statistics(log_vars, samples, (2, 2))
    assert min(spatial) > 0
    torch.testing.assert_close(log_vars['loss'],
                               log_vars['loss_s0'] + log_vars['loss_s1'])


def record_head_inputs(model):
    """Wrap ``model.head.loss`` to keep, per training step, the projections
    of each view it receives: ``[online per view, target per view]``, each
    per level (a step calls it once per view order)."""
    calls, loss = [], model.head.loss

    def recording_loss(proj_online, proj_target, pairs, views):
        calls.append((views, [t.detach().clone() for t in proj_online],
                      [t.detach().clone() for t in proj_target]))
        return loss(proj_online, proj_target, pairs, views)

    model.head.loss = recording_loss
    steps = []

    def by_step():
        del steps[:]
        for start in range(0, len(calls), 2):
            online, target = {}, {}
            for (q, k), proj_q, target_k in calls[start:start + 2]:
                online[q], target[k] = proj_q, target_k
            steps.append(([online[0], online[1]], [target[0], target[1]]))
        return steps

    return by_step


def test_target_is_updated_before_its_forward(max_iters):
    """With a target that takes (almost) all of the online weights at each
    update, its features in step 2 are the online features of step 2 (the
    weights after step 1's optimizer step). Updated after its forward, they
    would come from the weights before step 1."""
    model = build(base_momentum=1 - 1e-6, end_momentum=1 - 1e-6)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    recorded = record_head_inputs(model)
    model.train_step(make_batch(seed=0), wrapper)
    model.train_step(make_batch(seed=1), wrapper)
    calls = recorded()
    assert len(calls) == 2
    online, target = calls[1]
    for view in range(2):
        for level in range(2):
            torch.testing.assert_close(target[view][level],
                                       online[view][level], atol=1e-4,
                                       rtol=1e-4)
    # step 2 saw other weights than step 1 (the check above is not vacuous)
    assert not torch.allclose(calls[0][0][0][0], calls[1][0][0][0],
                              atol=1e-2)


def test_target_update_buffers_defaults_to_false():
    signature = inspect.signature(DepthPixPro.__init__)
    assert signature.parameters['target_update_buffers'].default is False
    assert build().target_net.update_buffers is False


def test_target_bn_buffers_are_copied_at_every_step(max_iters):
    """Over several real train steps, the target's BN running statistics
    equal the online ones right after each update (copied, not averaged:
    an average would differ from step 1 on)."""
    model = build()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    checks, update = [], model.target_net.update_parameters

    def checked_update(online):
        update(online)
        target_buffers = dict(model.target_net.module.named_buffers())
        for name, value in online.named_buffers():
            checks.append(torch.equal(target_buffers[name], value))

    model.target_net.update_parameters = checked_update
    for step in range(3):
        model.train_step(make_batch(seed=step), wrapper)
    assert model.target_net.steps.item() == 3
    assert len(checks) > 3 * 10 and all(checks)
    # the running statistics did move between steps
    assert not torch.equal(model.backbone.bn1.running_mean,
                           torch.zeros_like(model.backbone.bn1.running_mean))


def test_base_momentum_defaults_to_pixpro():
    """PixPro's target keeps 0.99 of itself at the start: m = 0.01."""
    signature = inspect.signature(DepthPixPro.__init__)
    assert signature.parameters['base_momentum'].default == 0.01
    assert signature.parameters['end_momentum'].default == 0.
    cfg = model_cfg()
    del cfg['base_momentum']
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    assert model.target_net.momentum == 0.01
    assert model.target_net.end_momentum == 0.


def test_instance_loss_sums_both_view_orders(max_iters):
    """loss_instance = w * sum over (q, k) of mean_n (2 - 2 cos(p_q, z'_k)),
    p = predictor(instance_neck(pool(C5 of view q))), z' the target's
    instance projection of view k; written out with the model's modules."""
    model = build(
        instance_neck=dict(type='NonLinearNeck', in_channels=64,
                           hid_channels=32, out_channels=16,
                           norm_cfg=dict(type='BN1d')),
        instance_head=dict(
            type='LatentPredictHead',
            loss=dict(type='CosineSimilarityLoss', shift_factor=2.,
                      scale_factor=2.),  # BYOL's 2 - 2 cos
            predictor=dict(type='NonLinearNeck', in_channels=16,
                           hid_channels=32, out_channels=16,
                           with_avg_pool=False, norm_cfg=dict(type='BN1d'))),
        instance_loss_weight=0.5)
    model.train()
    batch = model.data_preprocessor(make_batch(), True)
    views = batch['inputs']
    out = model.loss(views, batch['data_samples'])
    with torch.no_grad():
        target_backbone = model.target_net.module[0]
        target_neck = model.target_net.module[2]
        pred = [
            model.instance_head.predictor(
                model.instance_neck([model.backbone(v)[-1]]))[0]
            for v in views
        ]
        proj = [target_neck([target_backbone(v)[-1]])[0] for v in views]
        expected = 0.
        for q, k in ((0, 1), (1, 0)):
            cos = F.cosine_similarity(pred[q].double(), proj[k].double())
            expected += (2 - 2 * cos).mean().item()
    assert out['loss_instance'].item() == pytest.approx(0.5 * expected,
                                                        abs=1e-5)
    # the two orders differ, so using one of them twice is visible
    one_order = F.cosine_similarity(pred[0], proj[1])
    assert abs((2 - 2 * one_order).mean().item() * 2 - expected) > 1e-3


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
