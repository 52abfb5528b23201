"""depth-pixpro: depth-aware pixel-level contrastive pretraining (OpenMMLab).

Importing this package registers every component into mmpretrain's registries
(pretraining, ``default_scope='mmpretrain'``) and mmseg's (segmentation,
``default_scope='mmseg'``). Configs load it with
``custom_imports=dict(imports=['projects.depth_pixpro'])``.
"""
from .utils.known_warnings import silence_known_warnings  # noqa: I001
silence_known_warnings()  # before mmengine is imported (pkg_resources)
from . import mmcv_shim  # noqa: F401,E402  (before mmseg imports mmcv.ops)
from . import checkpoint  # noqa: F401,E402  (weights-only loading, hooks)
from . import datasets, engine, models  # noqa: F401,E402

__version__ = '0.1.0'
