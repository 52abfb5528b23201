"""RGB-D transforms: depth loading, paired multi-view crops/flips, packing."""
from .depth_loading import LoadDepth  # noqa: F401
from .rgbd_views import (PackRGBDInputs, RGBDMultiView,  # noqa: F401
                         RGBDRandomFlip, RGBDRandomResizedCrop)
