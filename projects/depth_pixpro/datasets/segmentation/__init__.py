"""Semantic segmentation datasets for the downstream benchmark (mmseg).

All datasets are ``BaseSegDataset`` subclasses read by mmseg's own
``LoadImageFromFile`` + ``LoadAnnotations``: label remapping travels in each
item's ``label_map`` (a dict old id -> train id), which ``LoadAnnotations``
applies, so no custom transform is needed. Train ids are ``0..K-1`` and
``255`` is ignored (``ignore_index=255``).

* :class:`ScanNet2DSegDataset` (:mod:`.scannet2d`): ``scannet_frames_25k``
  (NYU40 ids in ``label/``) -> the 20 classes of the ScanNet 2D benchmark.
* :class:`NYUv2SegDataset` (40 classes) and :class:`NYUv2Seg13Dataset`
  (13 classes) (:mod:`.nyuv2`): the layout of
  ``tools/dataset_converters/nyu_mat.py`` and the ``nyuv2_mini`` fixture.
* :class:`SyntheticSceneSegDataset` (:mod:`.synthetic`): labels of the
  synthetic renderer, rendered once into a cache folder (seeds disjoint from
  pretraining).

Class names, palettes and id mappings live in :mod:`.label_tables`.

Depth: when a ``depth/`` folder sits beside the images, each item also gets
``depth_map_path`` (uint16 mm PNG), so ``LoadDepthAnnotation
(depth_rescale_factor=1e-3)`` can follow ``LoadAnnotations``.
"""
from .label_tables import (IGNORE_INDEX, NYU13_CLASSES, NYU40_CLASSES,
                           NYU40_TO_13, SCANNET20_CLASSES, SCANNET20_NYU40_IDS,
                           SCANNET20_PALETTE, compose_label_map,
                           lut_to_label_map, nyu40_to_13_lut, scannet20_lut)
from .nyuv2 import NYUv2Seg13Dataset, NYUv2SegDataset
from .scannet2d import ScanNet2DSegDataset
from .synthetic import SEG_SEED_OFFSET, SyntheticSceneSegDataset

__all__ = [
    'ScanNet2DSegDataset', 'NYUv2SegDataset', 'NYUv2Seg13Dataset',
    'SyntheticSceneSegDataset', 'SEG_SEED_OFFSET', 'IGNORE_INDEX',
    'NYU40_CLASSES', 'NYU13_CLASSES', 'NYU40_TO_13', 'SCANNET20_NYU40_IDS',
    'SCANNET20_CLASSES', 'SCANNET20_PALETTE', 'scannet20_lut',
    'nyu40_to_13_lut', 'lut_to_label_map', 'compose_label_map'
]
