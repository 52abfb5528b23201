"""RGB-D transforms: depth loading, paired multi-view crops/flips, colour
jitter, packing."""
from .color_jitter import RGBDColorJitter  # noqa: F401
from .depth_loading import LoadDepth  # noqa: F401
from .rgbd_views import (PackRGBDInputs, RGBDMultiView,  # noqa: F401
                         RGBDRandomFlip, RGBDRandomResizedCrop)
