"""depth-pixpro: depth-aware pixel-level contrastive pretraining (OpenMMLab).

Importing this package registers every component into mmpretrain's registries
(pretraining, ``default_scope='mmpretrain'``) and mmseg's (segmentation,
``default_scope='mmseg'``). Configs load it with
``custom_imports=dict(imports=['projects.depth_pixpro'])``.
"""
from . import compat  # noqa: F401,I001  (first: mmcv._ext shim, safe loading)
from . import datasets, engine, models  # noqa: F401,E402

__version__ = '0.1.0'
