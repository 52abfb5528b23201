"""tools/misc/print_config.py: the whole config after inheritance and the
checked --cfg-options; a printed demo config shows the views it trains on."""
import pytest
from mmengine.config import Config

from helpers import SYNTHETIC_CFG, load_script


def test_print_config(capsys):
    tool = load_script('tools/misc/print_config.py')
    text = tool.main([SYNTHETIC_CFG, '--cfg-options',
                      'train_cfg.max_iters=50'])
    assert capsys.readouterr().out == f'Config:\n{text}\n'
    assert 'max_iters=50' in text
    # the demo trains on 64x64 crops; no block of the 224 recipe is left
    assert 'scale=224' not in text and 'scale=64' in text
    with pytest.raises(SystemExit, match='train_cfg.max_iters'):
        tool.main([SYNTHETIC_CFG, '--cfg-options', 'train_cfg.max_iters=abc'])


def test_synthetic_views_are_the_pipelines():
    """The printed `views` variable is the transform the demo trains with
    (it was the 224-pixel recipe's, inherited and unused)."""
    cfg = Config.fromfile(SYNTHETIC_CFG)
    assert cfg.train_dataloader.dataset.pipeline[0] == cfg.views
    assert cfg.views.transforms[0][0].scale == cfg.crop_size == 64


def test_print_config_reads_options_as_train_py(capsys):
    """The same --cfg-options reader as tools/train.py: dict(...) values as
    literals, an unreadable value a usage error naming the option."""
    tool = load_script('tools/misc/print_config.py')
    text = tool.main([SYNTHETIC_CFG, '--cfg-options',
                      'model.head.scales=[dict(spatial_thresh=0.7,weight=1.)]'])
    assert 'dict(spatial_thresh=0.7, weight=1.0)' in text
    with pytest.raises(SystemExit):
        tool.main([SYNTHETIC_CFG, '--cfg-options', 'a=[1,2'])
    assert '--cfg-options a=[1,2' in capsys.readouterr().err
