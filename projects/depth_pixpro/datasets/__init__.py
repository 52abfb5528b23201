"""RGB-D pretraining datasets (mmpretrain registry) and segmentation datasets
(mmseg registry). Each module registers its classes on import."""
from . import transforms  # noqa: F401
from .base_rgbd import BaseRGBDDataset  # noqa: F401
from .cityscapes import CityscapesRGBDDataset  # noqa: F401
from .folder import RGBDFolderDataset  # noqa: F401
from .nyuv2 import NYUv2RGBDDataset  # noqa: F401
from .scannet import ScanNetRGBDDataset  # noqa: F401
from .synthetic import SyntheticRGBDDataset  # noqa: F401
from .seg_datasets import (NYUv2Seg13Dataset, NYUv2SegDataset,  # noqa: F401
                           ScanNet2DSegDataset, SyntheticSceneSegDataset)
from .seg_metric import PerClassIoUMetric  # noqa: F401
