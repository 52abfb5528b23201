"""benchmarks/plain_pixpro.py, the outside-free speed baseline: the same
losses as our PixPro step on the same inputs and weights, step after step
(loss, propagation, momentum target, SGD), and no project code inside."""
import ast
import math
import os.path as osp

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from benchmarks import plain_pixpro, train_step

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _copy_weights(ours, plain):
    """Our online weights into the plain model; targets = online copies."""
    plain.encoder.load_state_dict(ours.backbone.state_dict())
    projector = ours.neck.projectors[0]
    plain.projector.linear1.load_state_dict(projector[0].state_dict())
    plain.projector.bn1.load_state_dict(projector[1].state_dict())
    plain.projector.linear2.load_state_dict(projector[3].state_dict())
    plain.value_transform.load_state_dict(
        ours.head.propagations['0'].value_transform.state_dict())
    plain.encoder_k.load_state_dict(plain.encoder.state_dict())
    plain.projector_k.load_state_dict(plain.projector.state_dict())


def test_plain_step_equals_ours(total_steps=4):
    """Four SGD steps of both on one batch: equal losses at every step, so
    the loss, the propagation, the target's momentum schedule (K =
    ``max_iters`` = 4: the momentum changes at every step) and its update
    order agree."""
    from mmpretrain.registry import MODELS
    MessageHub.get_current_instance().update_info('max_iters', total_steps)
    torch.manual_seed(0)
    ours = MODELS.build(train_step.variant_cfg('a', 'resnet18', 32,
                                               16)).train()
    plain = plain_pixpro.PlainPixPro(18, 32, 16, total_steps=total_steps)
    plain.train()
    _copy_weights(ours, plain)
    step = plain_pixpro.PlainPixProStep(plain, lr=0.5)
    wrapper = OptimWrapper(torch.optim.SGD(ours.parameters(), lr=0.5,
                                           momentum=0.9))
    batch = train_step.make_batch(4, 64)
    views = batch['inputs']
    coord = torch.stack([s.coord for s in batch['data_samples']])
    losses = []
    for _ in range(4):
        log_vars = ours.train_step(batch, wrapper)
        losses.append((float(log_vars['loss'].detach()),
                       float(step(views, coord))))
    ours_losses, plain_losses = zip(*losses)
    assert len(set(ours_losses)) == 4  # the steps do move the model
    assert ours_losses == pytest.approx(plain_losses, rel=1e-4, abs=1e-5)


def test_plain_momentum_schedule():
    """tau_k = 1 - 0.01 (cos(pi k / K) + 1) / 2 applied per parameter."""
    torch.manual_seed(0)
    plain = plain_pixpro.PlainPixPro(18, 8, 8, total_steps=3)
    for param in plain.online_parameters():
        param.data.fill_(1.)
    for param in plain.target_parameters():
        param.data.fill_(0.)
    expected = 0.
    for k in range(3):
        plain.momentum_update()
        tau = 1 - 0.01 * (math.cos(math.pi * k / 3) + 1) / 2
        expected = tau * expected + (1 - tau)
        for param in plain.target_parameters():
            assert torch.allclose(param, torch.full_like(param, expected))


def test_plain_pixpro_imports_no_project_code():
    """The baseline computes the model with torch / torchvision only."""
    path = osp.join(REPO, 'benchmarks', 'plain_pixpro.py')
    with open(path) as f:
        tree = ast.parse(f.read())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or '').split('.')[0])
    assert modules <= {'copy', 'math', 'collections', 'typing', 'torch',
                       'torchvision'}, modules
