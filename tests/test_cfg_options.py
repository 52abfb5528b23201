"""``--cfg-options`` merging (projects/depth_pixpro/cfg_options.py):
unknown keys warn, numbers are checked."""
import pytest
from mmengine.config import Config


def test_cfg_options_warn_on_unknown_keys_and_check_numbers():
    from projects.depth_pixpro.cfg_options import merge_cfg_options
    cfg = Config(dict(train_cfg=dict(max_iters=2), model=dict(
        base_momentum=0.99, depth=18, flags=[dict(w=1.0)]), work_dir=None))
    with pytest.warns(UserWarning, match='Did you mean "train_cfg"'):
        merge_cfg_options(cfg, {'trian_cfg.max_iters': 3})
    assert cfg.train_cfg.max_iters == 2 and cfg.trian_cfg.max_iters == 3
    for key in ('model.base_momentum', 'model.depth', 'model.flags.0.w'):
        with pytest.raises(ValueError, match=f'{key}=abc: expected a number'):
            merge_cfg_options(cfg, {key: 'abc'})
    merge_cfg_options(cfg, {'model.base_momentum': 0.9, 'work_dir': 'w',
                            'model.new_key': 'text'})
    assert cfg.model.base_momentum == 0.9 and cfg.work_dir == 'w'
    assert cfg.model.new_key == 'text'
