"""utils/known_warnings.py: the third-party warnings every run printed are
silenced by message, any other warning stays visible; a run of the CPU demo
through tools/train.py prints only real warnings."""
import contextlib
import logging
import os
import subprocess
import sys
import warnings

import pytest

from helpers import REPO_ROOT, SYNTHETIC_CFG
from projects.depth_pixpro.utils.known_warnings import (KNOWN_LOG_MESSAGES,
                                                        muted_log_messages,
                                                        silence_known_warnings)

KNOWN = [
    ('pkg_resources is deprecated as an API. See https://setuptools...',
     'mmengine.utils.package_utils'),
    ("Only use 'alpha' for pillow backend.", 'mmcv.image.photometric'),
    ('The draw is False, it means that the hook for visualization will not '
     'take effect. The results will NOT be visualized or stored.',
     'mmseg.engine.hooks.visualization_hook'),
    ('Setting MKL_NUM_THREADS environment variable for each process to be 1'
     ' in default, ...', 'mmengine.utils.dl_utils.setup_env'),
    ('``build_loss`` would be deprecated soon, please use '
     '``mmseg.registry.MODELS.build()`` ', 'mmseg.models.builder'),
    ('Default ``avg_non_ignore`` is False, if you would like to ignore the '
     'certain label and average loss over non-ignore labels, which is the '
     'same with PyTorch official cross_entropy, set '
     '``avg_non_ignore=True``.', 'mmseg.models.losses.cross_entropy_loss'),
]


@pytest.mark.parametrize('message, module', KNOWN)
def test_known_warnings_are_silenced_others_are_not(message, module):
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter('always')
        silence_known_warnings()
        warnings.warn_explicit(message, UserWarning, 'x.py', 1,
                               module=module)
        warnings.warn_explicit('a real problem', UserWarning, 'x.py', 1,
                               module=module)
        # the same text as another category is not the known warning
        warnings.warn_explicit(message, RuntimeWarning, 'x.py', 1,
                               module=module)
    assert [(str(w.message), w.category) for w in caught] == [
        ('a real problem', UserWarning), (message, RuntimeWarning)]


@contextlib.contextmanager
def _records(logger):
    """The log records ``logger`` emits while inside (a list)."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def test_muted_log_messages_drops_only_the_known_lines():
    logger = logging.getLogger('test_known_warnings')
    with _records(logger) as records:
        with muted_log_messages(logger):
            for message in KNOWN_LOG_MESSAGES:
                logger.warning(f'{message}. Please use ...')
            logger.warning('a real problem')
        logger.warning(KNOWN_LOG_MESSAGES[0])  # outside: shown again
    assert [r.getMessage() for r in records] == [
        'a real problem', KNOWN_LOG_MESSAGES[0]]


def test_per_class_iou_metric_has_no_prefix_and_says_so():
    from mmengine.logging import MMLogger

    from projects.depth_pixpro.evaluation.metrics import PerClassIoUMetric
    logger = MMLogger.get_instance('test_metric_prefix')
    with _records(logger) as records:
        metric = PerClassIoUMetric(iou_metrics=['mIoU'])
    assert metric.prefix == ''  # keys stay 'mIoU', 'IoU.<class>'
    assert not [r for r in records if 'prefix' in r.getMessage()]


@pytest.mark.slow
def test_a_demo_run_prints_only_real_warnings(tmp_path):
    """Two iterations with a data worker (the mmcv warning came from each
    worker) and a misspelt option, whose warning must stay."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', SYNTHETIC_CFG, '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', 'train_cfg.max_iters=2',
         'train_dataloader.batch_size=2', 'train_dataloader.num_workers=1',
         'train_dataloader.persistent_workers=False',
         'train_dataloader.dataset.num_samples=4', 'custom_hooks=[]',
         'default_hooks.checkpoint.interval=2', 'trian_cfg.x=1'],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    for noise in ('pkg_resources', "Only use 'alpha'", 'FileClient',
                  'HardDiskBackend', 'prefix is not set'):
        assert noise not in output, noise
    assert 'Did you mean' in output or 'did you mean' in output
    assert 'Saving checkpoint at 2 iterations' in output
