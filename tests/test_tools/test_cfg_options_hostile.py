"""--cfg-options values mmengine misreads, config-file variables that change
nothing, and schedules that do not fit the training length."""
import os.path as osp
import warnings

import pytest
from mmengine.config import Config

from helpers import REPO_ROOT, SYNTHETIC_CFG, load_script
from projects.depth_pixpro.cfg_options import (check_schedule,
                                               merge_cfg_options)

R50_SCANNET = osp.join(
    REPO_ROOT, 'configs',
    'depth_pixpro_resnet50_8xb128-lars-coslr-100e_scannet.py')


def _tool(name):
    return load_script(f'tools/{name}.py', f'{name}_tool')


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_dict_values_are_read_as_literals(tool):
    argv = ['cfg.py'] + (['ckpt.pth'] if tool == 'test' else [])
    args = _tool(tool).parse_args(argv + [
        '--cfg-options',
        # mmengine: RecursionError
        'model.head.scales=[dict(level=-1,spatial_thresh=0.7),'
        'dict(spatial_thresh=1.4, weight=0.5)]',
        # mmengine: a list holding the string 'dict(type="X")'
        'model.head.filters=[dict(type="DepthPairFilter", thresh=0.1)]',
        'a={"k": (1, 2)}',
        # what DictAction reads stays as it was
        'train_cfg.max_iters=3', 'b=[1,2]', 'c=(1,2)', 'd=text', 'e=None',
        'f=1,2'])
    assert args.cfg_options == {
        'model.head.scales': [dict(level=-1, spatial_thresh=0.7),
                              dict(spatial_thresh=1.4, weight=0.5)],
        'model.head.filters': [dict(type='DepthPairFilter', thresh=0.1)],
        'a': dict(k=(1, 2)), 'train_cfg.max_iters': 3, 'b': [1, 2],
        'c': (1, 2), 'd': 'text', 'e': None, 'f': [1, 2]}


@pytest.mark.parametrize('pair, message', [
    ('model.head.scales=[dict(spatial_thresh=0.7)', 'is not Python syntax'),
    ('a=[1,2', 'a=[1,2: cannot read the value (AssertionError'),
    ('a=dict(b=__import__("os").system("touch {marker}"))',
     'is not a literal'),
    ('model.head.filters', 'model.head.filters: expected key=value'),
])
def test_unreadable_values_are_usage_errors(tmp_path, capsys, pair,
                                            message):
    marker = tmp_path / 'executed'
    with pytest.raises(SystemExit) as err:
        _tool('train').parse_args(
            ['cfg.py', '--cfg-options', pair.format(marker=marker)])
    assert err.value.code == 2
    assert '--cfg-options' in capsys.readouterr().err
    assert not marker.exists()
    with pytest.raises(SystemExit):
        _tool('train').parse_args(
            ['cfg.py', '--cfg-options', pair.format(marker=marker)])
    assert message in capsys.readouterr().err


def test_config_file_variables_are_refused_with_their_fields():
    cfg = Config.fromfile(SYNTHETIC_CFG)
    with pytest.raises(ValueError) as err:
        merge_cfg_options(cfg, {'max_iters': 2})
    message = str(err.value)
    assert message.startswith('--cfg-options max_iters: "max_iters" is a '
                              'variable of the config file')
    assert 'train_cfg.max_iters' in message
    assert 'param_scheduler.1.end' in message
    assert cfg.train_cfg.max_iters == 300 and cfg.max_iters == 300
    with pytest.raises(ValueError, match='"crop_size" is a variable'):
        merge_cfg_options(cfg, {'crop_size': 32})
    cfg = Config.fromfile(R50_SCANNET)
    with pytest.raises(ValueError,
                       match='train_dataloader.dataset.data_root'):
        merge_cfg_options(cfg, {'data_root': '/elsewhere'})
    # the runner's own keys are set as before
    merge_cfg_options(cfg, {'train_cfg.max_epochs': 2, 'work_dir': 'w',
                            'resume': True, 'load_from': 'x.pth'})
    assert cfg.train_cfg.max_epochs == 2 and cfg.resume


def test_train_py_stops_on_a_variable(tmp_path):
    with pytest.raises(SystemExit, match='error: --cfg-options max_iters: '
                       '"max_iters" is a variable'):
        _tool('train').main([SYNTHETIC_CFG, '--work-dir', str(tmp_path),
                             '--cfg-options', 'max_iters=2'])


def test_schedule_longer_than_the_run_warns():
    cfg = Config.fromfile(SYNTHETIC_CFG)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert check_schedule(cfg) == []  # 300 iterations, as written
    cfg.train_cfg.max_iters = 10
    with pytest.warns(UserWarning, match='mmengine does not rescale'):
        messages = check_schedule(cfg)
    assert messages == [
        'param_scheduler[0] (LinearLR) runs to iteration 20 but '
        'train_cfg.max_iters=10: it is cut off (the lr never leaves the '
        'warm-up)',
        'param_scheduler[1] (CosineAnnealingLR) starts at iteration 20 but '
        'train_cfg.max_iters=10: it never runs']
    cfg.train_cfg.max_iters = 100  # the cosine is cut off
    with pytest.warns(UserWarning):
        assert check_schedule(cfg) == [
            'param_scheduler[1] (CosineAnnealingLR) runs to iteration 300 '
            'but train_cfg.max_iters=100: it is cut off']
    # epoch-based: the 5-epoch warm-up of the GPU recipe in a 2-epoch run
    cfg = Config.fromfile(R50_SCANNET)
    cfg.train_cfg.max_epochs = 2
    with pytest.warns(UserWarning):
        messages = check_schedule(cfg)
    assert messages[0].startswith('param_scheduler[0] (LinearLR) runs to '
                                  'epoch 5 but train_cfg.max_epochs=2')


@pytest.mark.slow
def test_train_py_warns_about_the_schedule(tmp_path):
    # stopped right after by a model with nothing to learn (every weight 0)
    with pytest.warns(UserWarning, match=r'param_scheduler\[0\] \(LinearLR\)'
                      r' runs to iteration 20 but train_cfg.max_iters=10'):
        with pytest.raises(ValueError, match='every loss term has weight 0'):
            _tool('train').main([
                SYNTHETIC_CFG, '--work-dir', str(tmp_path), '--cfg-options',
                'train_cfg.max_iters=10',
                'model.head.scales=[dict(spatial_thresh=0.7, weight=0.)]'])
