"""DivergenceGuardHook: a non-finite loss or exploding weights stop the run
with a clear message, before a checkpoint of them is written."""
import math
import os
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from helpers import load_script, write_tiny_config
from projects.depth_pixpro.engine.hooks import (DivergenceGuardHook,
                                                TrainingDivergedError,
                                                ensure_divergence_guard)
from projects.depth_pixpro.checkpoint.values import largest_weight


def test_largest_weight_hand_case():
    state = dict(
        a=torch.tensor([1., -7., 3.]),
        b=torch.tensor([[2., 5.]], dtype=torch.float64),
        steps=torch.tensor(10 ** 9),  # integer buffers are not weights
        empty=torch.zeros(0))
    assert largest_weight(state) == ('a', 7.)
    state['c'] = torch.tensor([1., float('nan')])
    state['d'] = torch.tensor([float('inf')])
    name, value = largest_weight(state)
    assert name == 'c' and math.isnan(value)
    del state['c']
    assert largest_weight(state) == ('d', float('inf'))
    assert largest_weight(dict(steps=torch.tensor(3))) == ('', 0.)


class _NoSync(torch.Tensor):
    """A loss tensor that fails if anything copies it to the host."""

    def item(self):
        raise AssertionError('the guard synchronised on the loss tensor')

    __float__ = __bool__ = item


def _runner(loss_values, optim_wrapper=None, iteration=0, model=None):
    hub = MessageHub(f'guard_{id(loss_values)}')
    for key, value in loss_values.items():
        hub.update_scalar(f'train/{key}', value)
    return SimpleNamespace(
        message_hub=hub, iter=iteration, model=model or torch.nn.Linear(2, 2),
        optim_wrapper=optim_wrapper or object.__new__(OptimWrapper))


def test_loss_is_read_from_the_message_hub_without_a_sync():
    hook = DivergenceGuardHook(interval=50)
    outputs = dict(loss=torch.tensor(float('nan')).as_subclass(_NoSync))
    # iteration 1 (not a weight-check iteration): the float that
    # RuntimeInfoHook logged is what counts
    hook.after_train_iter(_runner(dict(loss=-0.5)), 0, outputs=outputs)
    with pytest.raises(TrainingDivergedError) as err:
        hook.after_train_iter(
            _runner(dict(loss=float('nan'), loss_s0=float('nan'),
                         loss_s1=0.25), iteration=1), 1, outputs=outputs)
    message = str(err.value)
    assert message.startswith('iteration 2: the loss is not a finite number')
    assert 'loss_s0 nan' in message and 'loss_s1 0.25' in message
    assert 'optim_wrapper.optimizer.lr' in message


def test_amp_tolerates_a_few_skipped_steps():
    amp = object.__new__(AmpOptimWrapper)  # the loss scaler skips them
    hook = DivergenceGuardHook(amp_patience=2)
    runner = _runner(dict(loss=float('inf')), optim_wrapper=amp)
    hook.after_train_iter(runner, 0)
    hook.after_train_iter(runner, 1)
    hook.after_train_iter(_runner(dict(loss=1.), optim_wrapper=amp), 2)
    hook.after_train_iter(runner, 3)  # the count starts again
    hook.after_train_iter(runner, 4)
    with pytest.raises(TrainingDivergedError):
        hook.after_train_iter(runner, 5)


def test_weights_checked_on_the_interval_and_before_saving():
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.fill_(1e9)
    hook = DivergenceGuardHook(interval=3)
    hook.after_train_iter(_runner(dict(loss=1.), model=model, iteration=0), 0)
    with pytest.raises(TrainingDivergedError,
                       match=r'iteration 3: the weights exploded: weight has '
                       r'\|value\| 1e\+09 > max_abs_weight 1e\+08'):
        hook.after_train_iter(
            _runner(dict(loss=1.), model=model, iteration=2), 2)
    checkpoint = dict(meta=dict(iter=7), state_dict=dict(
        w=torch.ones(3), bn=torch.tensor([float('nan')])))
    with pytest.raises(TrainingDivergedError,
                       match='checkpoint of iteration 7: the weights exploded:'
                       ' bn is not a finite number'):
        hook.before_save_checkpoint(None, checkpoint)
    checkpoint['state_dict']['bn'] = torch.tensor([1e3])
    hook.before_save_checkpoint(None, checkpoint)
    with pytest.raises(ValueError, match='interval'):
        DivergenceGuardHook(interval=0)
    with pytest.raises(ValueError, match='max_abs_weight'):
        DivergenceGuardHook(max_abs_weight=float('nan'))


def test_ensure_divergence_guard_adds_it_once():
    from mmengine.config import Config
    cfg = Config(dict(custom_hooks=[dict(type='DenseProbeHook')]))
    ensure_divergence_guard(cfg)
    ensure_divergence_guard(cfg)
    assert [h['type'] for h in cfg.custom_hooks] == [
        'DenseProbeHook', 'DivergenceGuardHook']
    cfg = Config(dict(custom_hooks=[dict(type='DivergenceGuardHook',
                                         max_abs_weight=5.)]))
    ensure_divergence_guard(cfg)
    assert cfg.custom_hooks == [dict(type='DivergenceGuardHook',
                                     max_abs_weight=5.)]


def _train_tiny(tmp_path, lr, extra=''):
    """train.py on a tiny DepthPixPro at ``lr`` for 4 iterations, a
    checkpoint after each, in ``tmp_path / 'work'``."""
    config = write_tiny_config(
        tmp_path / 'tiny.py', max_iters=4, batch_size=4, num_samples=8,
        extra=f'optim_wrapper = dict(optimizer=dict(lr={lr}))\n' + extra)
    load_script('tools/train.py', 'train_tool').main(
        [config, '--work-dir', str(tmp_path / 'work')])


@pytest.mark.slow
@pytest.mark.parametrize('lr, message, saved', [
    # the two runs: lr 1e30 gives a nan loss from iteration 2 and
    # weights ~1e30 after iteration 1; with lr 1e6 the logged loss looks
    # normal while BN variances reach ~1e22 at iteration 2
    ('1e30', 'checkpoint of iteration 1: the weights exploded: '
     'backbone.conv1.weight has |value|', []),
    ('1e6', 'checkpoint of iteration 2: the weights exploded: backbone.',
     ['iter_1.pth']),
])
def test_train_py_stops_a_diverged_run_without_saving_it(tmp_path, lr,
                                                         message, saved):
    with pytest.raises(SystemExit) as err:
        _train_tiny(tmp_path, lr)
    work = tmp_path / 'work'
    assert str(err.value).startswith('error: ')
    assert message in str(err.value) and 'lr' in str(err.value)
    assert sorted(n for n in os.listdir(work) if n.endswith('.pth')) == saved
    for name in saved:  # what was saved is finite and plausible
        state = torch.load(work / name, weights_only=True)['state_dict']
        assert largest_weight(state)[1] <= 1e8


@pytest.mark.slow
def test_train_py_stops_on_a_nan_loss(tmp_path):
    # weights allowed to be huge: the nan loss of iteration 2 stops it,
    # after iteration 1's checkpoint
    with pytest.raises(SystemExit, match='iteration 2: the loss is not a '
                       'finite number'):
        _train_tiny(tmp_path, '1e30',
                    "custom_hooks = [dict(type='DivergenceGuardHook', "
                    'max_abs_weight=float("inf"))]\n')
    work = tmp_path / 'work'
    assert sorted(n for n in os.listdir(work) if n.endswith('.pth')) == [
        'iter_1.pth']
