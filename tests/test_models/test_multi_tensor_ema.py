"""MultiTensorCosineEMA: CosineEMA's numbers (the formula written out and
mmpretrain's CosineEMA side by side), no host sync after the first update,
resume and buffer handling."""
import math

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub

from benchmarks.step_profile import count_host_syncs
from mmpretrain.models.utils import CosineEMA
from projects.depth_pixpro.models.utils.multi_tensor_ema import (
    MultiTensorCosineEMA, cosine_momentum)


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4),
                         nn.Linear(5, 2))


def _perturb(net, gen):
    """A training step's worth of change: new weights and BN statistics."""
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=gen))
        net[1].running_mean.add_(torch.randn(4, generator=gen))
        net[1].num_batches_tracked.add_(1)


def _set_max_iters(value):
    MessageHub.get_current_instance().update_info('max_iters', value)


def test_cosine_momentum_formula():
    assert cosine_momentum(0.01, 0., 0, 10) == pytest.approx(0.01)
    assert cosine_momentum(0.01, 0., 10, 10) == pytest.approx(0.)
    assert cosine_momentum(0.01, 0., 5, 10) == pytest.approx(0.005)
    assert cosine_momentum(0.01, 0.002, 5, 10) == pytest.approx(0.006)


@pytest.mark.parametrize('end_momentum', [0., 0.003])
def test_updates_follow_the_formula_with_a_changing_max_iters(end_momentum):
    """Update k: copy at k = 0, then avg <- (1 - m_k) avg + m_k src with
    m_k = end - (end - m) (cos(pi k / K) + 1) / 2, K read at each update."""
    net = _net()
    ema = MultiTensorCosineEMA(net, momentum=0.2, end_momentum=end_momentum)
    gen = torch.Generator().manual_seed(1)
    expected = {k: v.detach().clone() for k, v in net.named_parameters()}
    for k, max_iters in enumerate([7, 7, 9, 9, 4, 30]):
        _set_max_iters(max_iters)
        _perturb(net, gen)
        ema.update_parameters(net)
        for name, src in net.named_parameters():
            if k == 0:
                expected[name] = src.detach().clone()
            else:
                m = end_momentum - (end_momentum - 0.2) * (
                    math.cos(math.pi * k / max_iters) + 1) / 2
                expected[name] = (1 - m) * expected[name] + m * src.detach()
            torch.testing.assert_close(
                dict(ema.module.named_parameters())[name], expected[name])
        # buffers copied from the source (update_buffers=False)
        torch.testing.assert_close(ema.module[1].running_mean,
                                   net[1].running_mean)
        assert int(ema.steps) == k + 1


@pytest.mark.parametrize('update_buffers', [False, True])
@pytest.mark.parametrize('interval', [1, 2])
def test_same_numbers_as_mmpretrain_cosine_ema(update_buffers, interval):
    """Side by side over updates with a changing ``max_iters``."""
    net = _net()
    ours = MultiTensorCosineEMA(net, momentum=0.05, interval=interval,
                                update_buffers=update_buffers)
    theirs = CosineEMA(net, momentum=0.05, interval=interval,
                       update_buffers=update_buffers)
    gen = torch.Generator().manual_seed(2)
    for max_iters in [10, 10, 10, 6, 6, 20, 20]:
        _set_max_iters(max_iters)
        _perturb(net, gen)
        ours.update_parameters(net)
        theirs.update_parameters(net)
        for (name, a), b in zip(ours.state_dict().items(),
                                theirs.state_dict().values()):
            # CosineEMA's angle pi * steps / K is a float32 tensor, ours a
            # Python float: the momenta differ in the 8th digit
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7,
                                       msg=name)


def test_no_host_sync_after_the_first_update():
    """The update count is read from the buffer once; then nothing."""
    _set_max_iters(100)
    net = _net()
    ema = MultiTensorCosineEMA(net, momentum=0.01)
    first = count_host_syncs(lambda: ema.update_parameters(net))
    assert sum(first.values()) <= 2  # int(steps): one read
    for _ in range(3):
        assert count_host_syncs(lambda: ema.update_parameters(net)) == {
            'aten::_local_scalar_dense': 0, 'aten::is_nonzero': 0}


def test_resume_continues_the_schedule():
    """A loaded state dict (steps = 3) gives update 3's momentum next."""
    _set_max_iters(8)
    gen = torch.Generator().manual_seed(3)
    net = _net()
    ema = MultiTensorCosineEMA(net, momentum=0.3)
    for _ in range(3):
        _perturb(net, gen)
        ema.update_parameters(net)
    resumed = MultiTensorCosineEMA(_net(5), momentum=0.3)
    resumed.update_parameters(net)  # its host count is now 1 ...
    resumed.load_state_dict(ema.state_dict())  # ... and is read again
    _perturb(net, gen)
    ema.update_parameters(net)
    resumed.update_parameters(net)
    for a, b in zip(ema.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert int(resumed.steps) == 4


def test_moved_module_is_followed():
    """After .to() (new buffer tensors) the update uses the new tensors."""
    _set_max_iters(8)
    net = _net()
    ema = MultiTensorCosineEMA(net, momentum=0.3)
    ema.update_parameters(net)
    net.to(torch.float64)
    ema.to(torch.float64)
    with torch.no_grad():
        net[1].running_mean.fill_(7.)
    ema.update_parameters(net)
    assert torch.equal(ema.module[1].running_mean,
                       torch.full((4, ), 7., dtype=torch.float64))


def test_missing_max_iters_is_a_clear_error():
    net = _net()
    ema = MultiTensorCosineEMA(net)
    ema.update_parameters(net)  # the copy needs no schedule
    hub = MessageHub.get_current_instance()
    saved = hub.runtime_info.pop('max_iters', None)
    try:
        with pytest.raises(RuntimeError, match='max_iters'):
            ema.update_parameters(net)
    finally:
        if saved is not None:
            hub.update_info('max_iters', saved)
