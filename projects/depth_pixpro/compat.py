"""Old import path; the three jobs live in their own modules now.

* ``mmcv._ext`` shim: :mod:`projects.depth_pixpro.mmcv_shim`
* device/distributed adaptation: :mod:`projects.depth_pixpro.device`
* checkpoint loading: :mod:`projects.depth_pixpro.checkpoint`
"""
from .mmcv_shim import install_mmcv_ext_shim  # noqa: I001  (first)
from .checkpoint import (CheckpointLoadError, load_checkpoint_file,
                         trusted_checkpoints)
from .device import adapt_cfg_for_device, init_cpu_distributed

__all__ = [
    'install_mmcv_ext_shim', 'adapt_cfg_for_device', 'init_cpu_distributed',
    'load_checkpoint_file', 'trusted_checkpoints', 'CheckpointLoadError'
]
