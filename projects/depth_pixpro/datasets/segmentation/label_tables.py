"""Label tables of the segmentation datasets: class names, palettes and
id mappings (NYU40, the 13 NYUv2 classes, the 20 ScanNet benchmark classes).
"""
from typing import Dict, Optional

import numpy as np

__all__ = [
    'IGNORE_INDEX', 'NYU40_CLASSES', 'NYU13_CLASSES', 'NYU40_TO_13',
    'SCANNET20_NYU40_IDS', 'SCANNET20_CLASSES', 'SCANNET20_PALETTE',
    'scannet20_lut', 'nyu40_to_13_lut', 'lut_to_label_map',
    'compose_label_map'
]

#: Label value that the losses and metrics ignore.
IGNORE_INDEX = 255

#: NYU40 class names, NYU40 id ``i`` (1..40) is ``NYU40_CLASSES[i - 1]``.
NYU40_CLASSES = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door',
    'window', 'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves',
    'curtain', 'dresser', 'pillow', 'mirror', 'floor mat', 'clothes',
    'ceiling', 'books', 'refrigerator', 'television', 'paper', 'towel',
    'shower curtain', 'box', 'whiteboard', 'person', 'night stand', 'toilet',
    'sink', 'lamp', 'bathtub', 'bag', 'otherstructure', 'otherfurniture',
    'otherprop')
#: The 13 classes of Couprie et al. (train ids 0..12, nyuv2_mini README).
NYU13_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture',
                 'objects', 'picture', 'sofa', 'table', 'tv', 'wall',
                 'window')
#: NYU40 ids of the 20 ScanNet benchmark classes, in train-id order
#: (ScanNet BenchmarkScripts/2d_evaluation/evalPixelLevelSemanticLabeling.py).
SCANNET20_NYU40_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28,
                       33, 34, 36, 39)
SCANNET20_CLASSES = tuple(NYU40_CLASSES[i - 1] for i in SCANNET20_NYU40_IDS)

# ScanNet's own colour map for the NYU40 ids of the 20 classes (util.py).
SCANNET20_PALETTE = [[174, 199, 232], [152, 223, 138], [31, 119, 180],
                     [255, 187, 120], [188, 189, 34], [140, 86, 75],
                     [255, 152, 150], [214, 39, 40], [197, 176, 213],
                     [148, 103, 189], [196, 156, 148], [23, 190, 207],
                     [247, 182, 210], [219, 219, 141], [255, 127, 14],
                     [158, 218, 229], [44, 160, 44], [112, 128, 144],
                     [227, 119, 194], [82, 84, 163]]


def scannet20_lut() -> np.ndarray:
    """256-entry LUT: NYU40 id -> ScanNet20 train id (0..19), else 255.

    Returns:
        np.ndarray: uint8 array of shape (256,).
    """
    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    lut[list(SCANNET20_NYU40_IDS)] = np.arange(len(SCANNET20_NYU40_IDS))
    return lut


def lut_to_label_map(lut: np.ndarray) -> Dict[int, int]:
    """The entries of a 256-entry LUT that change a value, as a dict.

    ``LoadAnnotations`` applies a ``label_map`` simultaneously (it compares
    against a copy), which equals ``lut[label]``.
    """
    return {int(i): int(v) for i, v in enumerate(lut) if int(v) != i}


#: classMapping13.labels13 indexed by NYU-40 id 1..40: upstream 1-based
#: 13-class ids (source: nyuv2_mini README, Couprie et al. / Handa et al.).
NYU40_TO_13 = np.array([
    12, 5, 6, 1, 4, 9, 10, 12, 13, 6, 8, 6, 13, 10, 6, 13, 6, 7, 7, 5, 7, 3,
    2, 6, 11, 7, 7, 7, 7, 7, 7, 6, 7, 7, 7, 7, 7, 7, 6, 7
])


def nyu40_to_13_lut() -> np.ndarray:
    """256-entry LUT: NYU-40 id (0 = unlabeled, 1..40) -> 13-class train id
    (0..12) or 255.

    Returns:
        np.ndarray: uint8 array of shape (256,).
    """
    lut = np.full(256, IGNORE_INDEX, np.uint8)
    lut[1:41] = NYU40_TO_13 - 1
    return lut


def compose_label_map(lut: Optional[np.ndarray],
                      class_map: Optional[Dict[int, int]]
                      ) -> Optional[Dict[int, int]]:
    """``class_map`` (mmseg's class subset map) applied after ``lut``."""
    if lut is None and class_map is None:
        return None
    total = np.arange(256) if lut is None else lut.astype(np.int64)
    if class_map:
        subset = np.arange(256)
        for old, new in class_map.items():
            subset[old] = new
        total = subset[total]
    return lut_to_label_map(total)
