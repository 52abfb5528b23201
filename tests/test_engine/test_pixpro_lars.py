"""PixProLARS against official PixPro's LARS rule written out by hand."""
import pytest
import torch
import torch.nn as nn
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from projects.depth_pixpro.engine.optimizers import PixProLARS


def official_lars_steps(params, grads_per_step, lrs, excluded, wd, momentum,
                        eta=1e-3, eps=1e-8):
    """contrast/lars.py around torch SGD, one parameter at a time, float64:
    g += wd p (decayed group); g *= eta ||p|| / (||g|| + eps) unless
    excluded or a norm is 0; buf = g (first) or momentum buf + g;
    p -= lr buf."""
    params = [p.double().clone() for p in params]
    bufs = [None] * len(params)
    for grads, lr in zip(grads_per_step, lrs):
        for i, (p, g) in enumerate(zip(params, grads)):
            g = g.double().clone()
            decay = 0. if excluded[i] else wd
            if decay > 0:
                g = g + decay * p
            if not excluded[i]:
                p_norm, g_norm = float(p.norm()), float(g.norm())
                if p_norm > 0 and g_norm > 0:
                    g = g * (eta * p_norm / (g_norm + eps))
            bufs[i] = g if bufs[i] is None else momentum * bufs[i] + g
            params[i] = p - lr * bufs[i]
    return params


def test_steps_follow_the_official_rule():
    """Three steps with a changing lr (the lr acts on the momentum buffer,
    as torch SGD), a decayed + adapted group, an excluded group (no decay,
    no trust ratio) and a zero parameter (trust ratio 1)."""
    gen = torch.Generator().manual_seed(0)
    weight = nn.Parameter(torch.randn(5, 4, generator=gen))
    zero = nn.Parameter(torch.zeros(3, 2))
    bias = nn.Parameter(torch.randn(5, generator=gen))
    wd, momentum, lrs = 1e-2, 0.9, [0.5, 0.3, 0.8]
    optimizer = PixProLARS(
        [dict(params=[weight, zero]),
         dict(params=[bias], weight_decay=0., lars_exclude=True)],
        lr=lrs[0], momentum=momentum, weight_decay=wd)
    start = [p.detach().clone() for p in (weight, zero, bias)]
    grads_per_step = [[torch.randn(p.shape, generator=gen) * scale
                       for p in (weight, zero, bias)]
                      for scale in (1., 1e-3, 0.1)]
    for grads, lr in zip(grads_per_step, lrs):
        for group in optimizer.param_groups:
            group['lr'] = lr
        for p, g in zip((weight, zero, bias), grads):
            p.grad = g.clone()
        optimizer.step()
    expected = official_lars_steps(start, grads_per_step, lrs,
                                   [False, False, True], wd, momentum)
    for p, e in zip((weight, zero, bias), expected):
        torch.testing.assert_close(p.detach().double(), e, rtol=1e-5,
                                   atol=1e-7)
    # the weight decay of each group is restored after the step
    assert [g['weight_decay'] for g in optimizer.param_groups] == [wd, 0.]


def test_trust_ratio_uses_the_decayed_gradient_norm():
    """The reviewer's case: ||p|| = 12.8, wd 1e-5, g orthogonal to p with
    ||g|| = 2.6e-4: norm(g + wd p) = 2.9e-4, where mmpretrain's LARS divides
    by norm(g) + wd norm(p) = 3.9e-4 (a 25 % smaller step)."""
    p = torch.zeros(2, 2)
    p[0, 0] = 12.8
    g = torch.zeros(2, 2)
    g[1, 1] = 2.6e-4
    param = nn.Parameter(p.clone())
    optimizer = PixProLARS([param], lr=1., weight_decay=1e-5)
    param.grad = g.clone()
    optimizer.step()
    step = (p - param.detach()).double()
    decayed = g.double() + 1e-5 * p.double()
    trust = 1e-3 * 12.8 / (float(decayed.norm()) + 1e-8)
    torch.testing.assert_close(step, trust * decayed, rtol=1e-5, atol=1e-12)
    mmpretrain_trust = 1e-3 * 12.8 / (2.6e-4 + 1e-5 * 12.8 + 1e-8)
    assert trust / mmpretrain_trust == pytest.approx(
        (2.6e-4 + 1.28e-4) / (2.6e-4**2 + 1.28e-4**2)**0.5, rel=1e-4)


def test_no_host_sync_in_the_step():
    """Norms and trust ratios stay tensors: no .item() per parameter."""
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    optimizer = PixProLARS(model.parameters(), lr=0.1, momentum=0.9,
                           weight_decay=1e-4)
    model(torch.randn(3, 4)).sum().backward()
    with torch.profiler.profile(activities=[
            torch.profiler.ProfilerActivity.CPU]) as prof:
        optimizer.step()
    names = [event.name for event in prof.events()]
    assert 'aten::_local_scalar_dense' not in names
    assert 'aten::is_nonzero' not in names


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='eta'):
        PixProLARS([nn.Parameter(torch.ones(1))], lr=0.1, eta=-1.)
    with pytest.raises(ValueError, match='eps'):
        PixProLARS([nn.Parameter(torch.ones(1))], lr=0.1, eps=-1.)


def test_built_from_a_config_with_the_1d_constructor():
    """The recipe's optimizer block: the 1-D groups excluded, and the step
    of a 1-D parameter is plain SGD (lr * grad)."""
    init_default_scope('mmpretrain')
    model = nn.Linear(3, 2)
    optimizer = build_optim_wrapper(model, dict(
        type='OptimWrapper',
        optimizer=dict(type='PixProLARS', lr=0.5, momentum=0.9,
                       weight_decay=1e-5),
        constructor='Exclude1DParamsOptimWrapperConstructor')).optimizer
    assert isinstance(optimizer, PixProLARS)
    bias = model.bias.detach().clone()
    model(torch.randn(4, 3)).sum().backward()
    grad = model.bias.grad.clone()
    optimizer.step()
    torch.testing.assert_close(model.bias.detach(), bias - 0.5 * grad)
