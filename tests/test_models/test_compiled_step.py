"""The opt-in compiled step (``compile_step``): the same losses as the
eager step, step after step, and the same state dict. The fast test
compiles with the ``aot_eager`` backend (dynamo + autograd tracing, no
C++ code generation); the inductor one takes minutes on 2 CPU cores and
runs only with DEPTH_PIXPRO_SLOW_TESTS=1."""
import copy
import os

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmpretrain.registry import MODELS
from test_host_syncs import MODEL, _batch


def _losses(compile_step, steps=3):
    MessageHub.get_current_instance().update_info('max_iters', 50)
    torch.manual_seed(0)
    cfg = copy.deepcopy(MODEL)
    cfg['compile_step'] = compile_step
    model = MODELS.build(cfg).train()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1,
                                           momentum=0.9))
    batch = _batch()
    logs = [model.train_step(batch, wrapper) for _ in range(steps)]
    return [{k: float(v.detach()) for k, v in log.items()}
            for log in logs], model


def _check_same(compile_step):
    eager, eager_model = _losses(False)
    compiled, compiled_model = _losses(compile_step)
    assert len({log['loss'] for log in eager}) == 3  # the model trains
    for a, b in zip(eager, compiled):
        assert a.keys() == b.keys()
        for key in a:
            assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-5), key
    assert list(eager_model.state_dict()) == list(
        compiled_model.state_dict())
    return compiled_model


def test_compiled_step_equals_eager_aot_eager():
    model = _check_same(dict(backend='aot_eager'))
    assert model.backbone._compiled_call_impl is not None
    assert model.target_net.module[0]._compiled_call_impl is not None


def test_compile_step_must_be_bool_or_dict():
    cfg = copy.deepcopy(MODEL)
    cfg['compile_step'] = 'fast'
    with pytest.raises(TypeError, match='compile_step'):
        MODELS.build(cfg)


@pytest.mark.skipif(not os.environ.get('DEPTH_PIXPRO_SLOW_TESTS'),
                    reason='inductor compiles C++ for minutes on 2 cores; '
                    'set DEPTH_PIXPRO_SLOW_TESTS=1')
def test_compiled_step_equals_eager_inductor():
    _check_same(True)
