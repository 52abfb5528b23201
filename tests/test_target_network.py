"""DepthPixPro's momentum target: update order, buffers, default momentum,
and the "+instance" loss over both view orders, by observable behaviour."""
import glob
import inspect
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from test_algorithm import build, make_batch, model_cfg

from mmpretrain.registry import MODELS
from projects.depth_pixpro.models.algorithms import DepthPixPro

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture
def max_iters():
    MessageHub.get_current_instance().update_info('max_iters', 10)
    return 10


def record_head_inputs(model):
    """Wrap ``model.head.loss`` to keep the projections it receives."""
    calls, loss = [], model.head.loss

    def recording_loss(proj_online, proj_target, *args, **kwargs):
        calls.append(([[t.detach().clone() for t in view]
                       for view in proj_online],
                      [[t.detach().clone() for t in view]
                       for view in proj_target]))
        return loss(proj_online, proj_target, *args, **kwargs)

    model.head.loss = recording_loss
    return calls


def test_target_is_updated_before_its_forward(max_iters):
    """With a target that takes (almost) all of the online weights at each
    update, its features in step 2 are the online features of step 2 (the
    weights after step 1's optimizer step). Updated after its forward, they
    would come from the weights before step 1."""
    model = build(base_momentum=1 - 1e-6, end_momentum=1 - 1e-6)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    calls = record_head_inputs(model)
    model.train_step(make_batch(seed=0), wrapper)
    model.train_step(make_batch(seed=1), wrapper)
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


def pretraining_configs():
    """Every config but the bases and the segmentation (mmseg) ones."""
    paths = sorted(
        glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
    skip = ('_base_', 'segmentation', 'benchmarks')
    return [
        p for p in paths
        if not set(osp.relpath(p, REPO).split(osp.sep)[:-1]) & set(skip)
    ]


def test_every_pretraining_config_uses_pixpro_momentum():
    """The built configs (whatever their names) start the target at
    m = 0.01 (tau = 0.99) and end at 0 (tau = 1)."""
    signature = inspect.signature(DepthPixPro.__init__).parameters
    found = 0
    for path in pretraining_configs():
        cfg = Config.fromfile(path)
        model = cfg.get('model', {})
        if model.get('type') != 'DepthPixPro':
            continue
        found += 1
        assert model.get('base_momentum',
                         signature['base_momentum'].default) == 0.01, path
        assert model.get('end_momentum',
                         signature['end_momentum'].default) == 0., path
    assert found >= 8


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
