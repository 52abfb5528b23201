"""DepthPixPro: momentum schedule, a real train_step, inputs, instance."""
import math

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from pixpro_reference import ref_spatial_ratio

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
    against a hand computation in test_target_network.py."""
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
