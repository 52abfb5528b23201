"""Data, by role.

* RGB-D pretraining datasets (mmpretrain ``DATASETS``): one module per
  source (``scannet``, ``cityscapes``, ``nyuv2``, ``folder``, ``synthetic``)
  on the shared ``base_rgbd``; their transforms in ``transforms/``.
* Depth file I/O (``depth_io``): the one encoder/decoder of depth PNGs.
* Segmentation datasets (mmseg ``DATASETS``): the ``segmentation`` package.

Each module registers its classes on import. The renderer of the synthetic
scenes is the package :mod:`projects.depth_pixpro.synthetic`; the metrics
are in :mod:`projects.depth_pixpro.evaluation`.
"""
from . import transforms  # noqa: F401
from .base_rgbd import BaseRGBDDataset  # noqa: F401
from .cityscapes import CityscapesRGBDDataset  # noqa: F401
from .folder import RGBDFolderDataset  # noqa: F401
from .nyuv2 import NYUv2RGBDDataset  # noqa: F401
from .scannet import ScanNetRGBDDataset  # noqa: F401
from .synthetic import SyntheticRGBDDataset  # noqa: F401
from .segmentation import (NYUv2Seg13Dataset, NYUv2SegDataset,  # noqa: F401
                           ScanNet2DSegDataset, SyntheticSceneSegDataset)
