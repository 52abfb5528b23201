"""Exclude1DParamsOptimWrapperConstructor on hand-made models: every 1-D
parameter out of weight decay and LARS, paramwise lr kept, and one LARS
step by hand."""
import pytest
import torch
import torch.nn as nn
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from param_groups import check_1d_excluded, param_groups


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
    n_flat = check_1d_excluded(model, optimizer, 1e-5)
    # conv.bias, block.1.weight/bias, ln.weight/bias, fc.bias
    assert n_flat == 6
    groups = param_groups(optimizer)
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
    groups = param_groups(optimizer)
    assert groups[model.fc.weight]['lr'] == pytest.approx(0.05)
    assert groups[model.fc.weight]['weight_decay'] == pytest.approx(2e-4)
    assert groups[model.fc.bias]['lr'] == pytest.approx(0.05)
    assert groups[model.fc.bias]['weight_decay'] == 0.
    assert groups[model.conv.weight]['weight_decay'] == pytest.approx(1e-4)
