"""The placeholder ``mmcv._ext`` of mmcv-lite installs
(projects/depth_pixpro/mmcv_shim.py)."""
import sys

import pytest
import torch

from projects.depth_pixpro import mmcv_shim


def test_mmcv_ext_shim_fails_only_when_an_op_is_called():
    ext = sys.modules['mmcv._ext']
    if not getattr(ext, 'IS_SHIM', False):
        pytest.skip('full mmcv installed: no shim needed')
    import mmcv.ops  # noqa: F401  (import works through the shim)
    with pytest.raises(RuntimeError, match='compiled mmcv extension'):
        ext.nms_forward(torch.zeros(1))
    from mmengine.utils.dl_utils import mmcv_full_available
    assert mmcv_full_available()  # pkgutil.find_loader needs a real spec


def test_shim_is_noop_when_ext_exists():
    assert mmcv_shim.install_mmcv_ext_shim() is False
