"""Names shared by the data pipeline and the model.

The keys of the results dict (transforms) and of the packed data sample
(``PackRGBDInputs``) as constants: a typo then fails at import instead of
silently reading a missing key. The depth kinds are
:mod:`projects.depth_pixpro.depth_kinds`.
"""
__all__ = [
    'IMG', 'IMG_PATH', 'IMG_SHAPE', 'DEPTH', 'DEPTH_PATH', 'DEPTH_FORMAT',
    'DEPTH_SCALE', 'DEPTH_KIND', 'DEPTH_RANGE', 'HAS_DEPTH', 'COORD',
    'MAX_DEPTH', 'CAMERA', 'CAMERA_PATH', 'RESIZE_IMG_TO_DEPTH'
]

# ------------------------------------------------------------- results keys
#: HxWx3 uint8 BGR image; after ``RGBDMultiView`` a list of V views.
IMG = 'img'
IMG_PATH = 'img_path'
IMG_SHAPE = 'img_shape'
#: HxW float32 depth (0 = invalid); after ``RGBDMultiView`` [V, h, w].
DEPTH = 'depth'
#: Where the depth file is (the key mmseg's ``LoadDepthAnnotation`` reads).
DEPTH_PATH = 'depth_map_path'
DEPTH_FORMAT = 'depth_format'
#: ``depth = raw / depth_scale`` (1000 for millimetre PNGs).
DEPTH_SCALE = 'depth_scale'
#: One of :data:`~projects.depth_pixpro.depth_kinds.DEPTH_KINDS`.
DEPTH_KIND = 'depth_kind'
#: float32 [2]: (min, max) of the valid depth of the whole image, (0, 0) if
#: it has none.
DEPTH_RANGE = 'depth_range'
#: bool: False when the sample has no depth (its depth is all zeros).
HAS_DEPTH = 'has_depth'
#: float32 [4] (or [V, 4]) crop box, PixPro convention.
COORD = 'coord'
MAX_DEPTH = 'max_depth'
CAMERA = 'camera'
CAMERA_PATH = 'camera_path'
#: bool: resize the image to the depth map in ``LoadDepth``.
RESIZE_IMG_TO_DEPTH = 'resize_img_to_depth'
