"""visualize_features.py builds a model from the config text a checkpoint
carries: only registered component names, never an import path; a wrong
``--level`` is an error naming the option."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from helpers import SYNTHETIC_CFG, load_script

TOOL = 'tools/analysis_tools/visualize_features.py'


@pytest.fixture(scope='module')
def small_cfg():
    cfg = Config.fromfile(SYNTHETIC_CFG)
    cfg.model.neck.update(hid_channels=16, out_channels=8)
    cfg.model.head.in_channels = 8
    return cfg


@pytest.fixture(scope='module')
def state(small_cfg):
    model_cfg = small_cfg.model.copy()
    model_cfg.data_preprocessor = small_cfg.data_preprocessor
    # not init_default_scope: a module fixture's scope would outlive it
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(model_cfg).state_dict()


@pytest.fixture
def image(tmp_path):
    path = str(tmp_path / 'img.png')
    cv2.imwrite(path, np.random.RandomState(0).randint(
        0, 255, (40, 48, 3), np.uint8))
    return path


def _checkpoint(tmp_path, state, cfg_text, name='ckpt.pth'):
    path = str(tmp_path / name)
    torch.save({'state_dict': state, 'meta': {'cfg': cfg_text}}, path)
    return path


def test_stored_config_with_registered_names_builds(tmp_path, small_cfg,
                                                    state, image):
    tool = load_script(TOOL)
    ckpt = _checkpoint(tmp_path, state, small_cfg.pretty_text)
    written = tool.main([ckpt, image, '--img-size', '64', '--out',
                         str(tmp_path / 'out')])
    assert len(written) == 1 and osp.getsize(written[0]) > 0
    model = tool.load_model(ckpt)
    assert torch.equal(model.backbone.conv1.weight,
                       state['backbone.conv1.weight'])


@pytest.mark.parametrize('text, key', [
    # the attack: an import path as the model type
    ("model = dict(type='os.system', command='touch {marker}')",
     'cfg.model.type'),
    # nested, inside an otherwise valid model
    ("model = dict(type='DepthPixPro', backbone=dict(type='os.system', "
     "command='touch {marker}'), neck=dict(type='PixelProjector'), "
     "head=dict(type='MultiScalePixelHead', in_channels=8))",
     'cfg.model.backbone.type'),
    ("model = dict(type='DepthPixPro', head=dict(filters=[dict("
     "type='subprocess.getoutput', cmd='touch {marker}')]))",
     'cfg.model.head.filters[0].type'),
    # the data preprocessor is built too
    ("model = dict(type='DepthPixPro')\n"
     "data_preprocessor = dict(type='os.system', command='touch {marker}')",
     'cfg.data_preprocessor.type'),
    # a plain name that is not registered (Registry.get would import it)
    ("model = dict(type='json')", 'cfg.model.type'),
    # a scope switch imports <scope>.registry
    ("model = dict(type='DepthPixPro', _scope_='os')", 'cfg.model._scope_'),
    ("default_scope = 'os'\nmodel = dict(type='DepthPixPro')",
     'default_scope'),
])
def test_stored_config_never_imports_or_calls(tmp_path, state, image, text,
                                              key):
    tool = load_script(TOOL)
    marker = tmp_path / 'executed'
    ckpt = _checkpoint(tmp_path, state, text.format(marker=marker))
    with pytest.raises(ValueError) as err:
        tool.main([ckpt, image, '--out', str(tmp_path / 'out')])
    message = str(err.value)
    assert ckpt in message and key in message and '--config' in message
    assert not marker.exists()


def test_level_out_of_range_names_the_option(tmp_path, small_cfg, state,
                                             image):
    tool = load_script(TOOL)
    ckpt = _checkpoint(tmp_path, state, small_cfg.pretty_text)
    # the synthetic config's backbone gives one level (out_indices (3, ))
    with pytest.raises(ValueError, match=r'--level 7: the backbone gives 1 '
                       r'output level\(s\)'):
        tool.main([ckpt, image, '--level', '7', '--img-size', '64',
                   '--out', str(tmp_path / 'out')])
    with pytest.raises(ValueError, match='--level -2'):
        tool.main([ckpt, image, '--level', '-2', '--img-size', '64',
                   '--out', str(tmp_path / 'out')])
    assert tool.main([ckpt, image, '--level', '-1', '--img-size', '64',
                      '--out', str(tmp_path / 'out')])
