"""RGB-D pretraining datasets (mmpretrain registry) and segmentation datasets
(mmseg registry). Each module registers its classes on import."""
from . import transforms  # noqa: F401
