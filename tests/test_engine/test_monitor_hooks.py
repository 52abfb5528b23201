"""CollapseMonitorHook (the warning's window logic) and the quiet
start-up of RunSummaryHook, on hand-made inputs and through one real
collapsed run."""
import glob
import os.path as osp
import re
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from helpers import SYNTHETIC_CFG
from projects.depth_pixpro.engine.hooks import (CollapseMonitorHook,
                                                RunSummaryHook)
from projects.depth_pixpro.engine.hooks.run_summary_hook import (
    FrozenParamWarningFilter, run_summary)
from projects.depth_pixpro.utils.scripts import read_scalars


# --------------------------------------------------------------- hook logic
def _feed(hook, values):
    """Runs ``values`` through the hook; iteration numbers of warnings."""
    warned_at = []
    runner = SimpleNamespace(iter=0)
    for it, value in enumerate(values):
        runner.iter = it
        before = hook.warned
        hook.after_train_iter(runner, it, outputs=dict(
            feat_std=torch.tensor(value), feat_cos=torch.tensor(0.9)))
        if hook.warned and not before:
            warned_at.append(it)
    return warned_at


def test_monitor_needs_a_full_window_below_and_warns_once(caplog):
    hook = CollapseMonitorHook(threshold=0.1, window=3)
    # two low, one recovery, then three low (fires at the 3rd), then more
    assert _feed(hook, [.05, .05, .5, .05, .05, .05, .01, .01, .5, .0,
                        .0, .0]) == [5]
    assert _feed(CollapseMonitorHook(0.1, 3), [.5] * 20 + [.099] * 2) == []
    assert _feed(CollapseMonitorHook(0.1, 1), [.2, .1, .0999]) == [2]
    with pytest.raises(ValueError, match='window'):
        CollapseMonitorHook(window=0)
    # models that log no feat_std are ignored
    quiet = CollapseMonitorHook(window=1)
    quiet.after_train_iter(SimpleNamespace(iter=0), 0, outputs=dict(loss=1))
    assert not quiet.warned


def test_frozen_warning_filter_counts_and_drops():
    import logging
    keep = logging.LogRecord('x', logging.WARNING, '', 0, 'other', (), None)
    drop = logging.LogRecord(
        'x', logging.WARNING, '', 0,
        'target_net.module.0.conv1.weight is skipped since its '
        'requires_grad=False', (), None)
    flt = FrozenParamWarningFilter()
    assert flt.filter(keep) and not flt.filter(drop)
    assert not flt.filter(drop) and flt.count == 2


def test_run_summary_line():
    line = run_summary(
        num_images=2048, max_iters=300, batch_size=16, world_size=2,
        pos_spatial=40.56, pos_final=18.75,
        filters=["DepthPairFilter(thresh=0.1, mode='relative')"],
        scales=[dict(level=0, spatial_thresh=0.7, weight=1 / 3),
                dict(level=0, spatial_thresh=1.4, weight=0.5,
                     depth_thresh=0.05)])
    assert line == (
        'run: 2048 images, 300 iterations of 16 images x 2 processes '
        '(4.69 epochs); positive pairs per image 40.6 spatial, 18.8 after '
        'filters (first batch, first scale); filters: '
        "DepthPairFilter(thresh=0.1, mode='relative'); scales: "
        'T=0.7 (level 0, weight 0.333), '
        'T=1.4 (level 0, weight 0.5, depth_thresh=0.05)')
    assert run_summary(100, 10, 5, 1) == (
        'run: 100 images, 10 iterations of 5 images x 1 process (0.50 '
        'epochs); filters: none (PixPro)')


# ------------------------------------------------------- a collapsed run
@pytest.fixture(scope='module')
def collapsed_run(tmp_path_factory):
    """4 iterations of the CPU demo with a projector that outputs a constant
    (every conv weight 0, bias 1; lr 0): feat_std 0 from the first step."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    cfg = Config.fromfile(SYNTHETIC_CFG)
    cfg.merge_from_dict({
        'train_cfg.max_iters': 4,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.num_samples': 8,
        'train_dataloader.dataset.img_size': 64,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 100,
        'default_hooks.checkpoint.save_last': False,
        'default_hooks.collapse_monitor.window': 2,
        'optim_wrapper.optimizer.lr': 0.,
        'model.neck.hid_channels': 16,
        'model.neck.out_channels': 8,
        'model.neck.with_last_bn': False,
        'model.neck.init_cfg': dict(type='Constant', layer='Conv2d', val=0.,
                                    bias=1.),
        'model.head.in_channels': 8,
    })
    cfg.work_dir = str(tmp_path_factory.mktemp('collapsed'))
    saved = dict(DefaultScope._instance_dict)
    runner = Runner.from_cfg(cfg)
    runner.train()
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
    logs = glob.glob(osp.join(cfg.work_dir, '*', '*.log'))
    with open(logs[0]) as f:
        return cfg.work_dir, f.read()


@pytest.mark.slow
def test_collapsed_run_warns_once(collapsed_run):
    _, log = collapsed_run
    assert log.count('feat_std has stayed below 0.1 for 2 iterations') == 1
    warning = [line for line in log.splitlines() if 'stayed below' in line]
    assert 'WARNING' in warning[0] and 'with_last_bn' in warning[0]
    assert 'iteration 2: 0.000' in warning[0]


@pytest.mark.slow
def test_collapsed_run_logs_feat_std_every_interval(collapsed_run):
    work_dir, _ = collapsed_run
    records = [r for r in read_scalars(work_dir) if 'loss' in r]
    assert [r['step'] for r in records] == [1, 2, 3, 4]
    for record in records:
        assert record['feat_std'] == pytest.approx(0., abs=1e-5)
        assert record['feat_cos'] == pytest.approx(1., abs=1e-5)


@pytest.mark.slow
def test_quiet_start_up_and_summary(collapsed_run):
    work_dir, log = collapsed_run
    assert 'skipped since its requires_grad=False' not in log
    frozen = [line for line in log.splitlines()
              if 'have requires_grad=False' in line]
    assert len(frozen) == 1
    assert re.search(r'\d+ parameters \(\d+ values, in target_net\)',
                     frozen[0])
    summary = [line for line in log.splitlines() if ' - run: ' in line]
    assert len(summary) == 1
    assert 'run: 8 images, 4 iterations of 2 images x 1 process (1.00 ' \
        'epochs); positive pairs per image' in summary[0]
    assert "filters: DepthPairFilter(thresh=0.1, mode='relative'" in \
        summary[0]
    assert 'scales: T=0.7 (level 0, weight 0.333), T=1.4' in summary[0]


def test_summary_hook_removes_its_filter():
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('d_summary_test')
    hook = RunSummaryHook()
    assert hook.warning_filter in logger.filters
    import logging
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    logger.warning('fc.bias is skipped since its requires_grad=False')
    runner = SimpleNamespace(model=torch.nn.Linear(2, 2))
    runner.model.bias.requires_grad_(False)
    hook.before_run(runner)
    assert hook.warning_filter not in logger.filters
    # not a momentum target: no EMA explanation
    assert messages == ['1 parameters (2 values, in bias) have '
                        'requires_grad=False: not optimised; 1 '
                        'per-parameter warnings silenced']
    logger.removeHandler(handler)
