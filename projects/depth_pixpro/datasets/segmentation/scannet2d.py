"""ScanNet 2D semantic segmentation (``scannet_frames_25k``), 20 classes."""
import os
import os.path as osp
from typing import List, Optional

import mmengine
from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .label_tables import (SCANNET20_CLASSES, SCANNET20_PALETTE,
                           compose_label_map, scannet20_lut)
from .utils import depth_map_path_if_any, seg_frame_info

__all__ = ['ScanNet2DSegDataset']


@DATASETS.register_module()
class ScanNet2DSegDataset(BaseSegDataset):
    """ScanNet 2D semantic segmentation, 20 benchmark classes.

    Layout (``scannet_frames_25k``)::

        data_root/
          scene0000_00/color/000000.jpg   label/000000.png  depth/000000.png
          ...
        scannetv2_train.txt  scannetv2_val.txt   (scene names, one a line)

    ``label/`` holds NYU40 ids (0 = unannotated); they are mapped to train
    ids 0..19 by :func:`scannet20_lut`; every other value becomes 255.
    The benchmark evaluates at 640x480 (the size of the 25k frames).

    Args:
        ann_file (str): Scene split file (``scannetv2_{train,val}.txt``),
            relative to ``data_root``. Empty: every scene folder.
        img_subdir (str): Image folder inside a scene. Defaults to 'color'.
        seg_subdir (str): Label folder inside a scene. Defaults to 'label'.
        depth_subdir (str | None): Depth folder (adds ``depth_map_path``).
        **kwargs: :class:`BaseSegDataset` arguments (``data_root``, ...).
    """
    METAINFO = dict(classes=SCANNET20_CLASSES, palette=SCANNET20_PALETTE)

    def __init__(self,
                 ann_file: str = '',
                 img_subdir: str = 'color',
                 seg_subdir: str = 'label',
                 depth_subdir: Optional[str] = 'depth',
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        if reduce_zero_label:
            raise ValueError('ScanNet2DSegDataset maps NYU40 id 0 to 255 '
                             'itself; keep reduce_zero_label=False.')
        self.img_subdir = img_subdir
        self.seg_subdir = seg_subdir
        self.depth_subdir = depth_subdir
        kwargs.setdefault('data_prefix', dict(img_path=''))
        super().__init__(
            ann_file=ann_file,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=False,
            **kwargs)

    def _scenes(self, root: str) -> List[str]:
        if self.ann_file:
            if not osp.isfile(self.ann_file):
                raise FileNotFoundError(
                    f'ScanNet scene split file not found: {self.ann_file}. '
                    'Use ScanNet Tasks/Benchmark/scannetv2_{train,val}.txt '
                    'or ann_file="" for every scene under data_root.')
            return [s.strip() for s in mmengine.list_from_file(self.ann_file)
                    if s.strip()]
        return sorted(d for d in os.listdir(root)
                      if osp.isdir(osp.join(root, d, self.img_subdir)))

    def load_data_list(self) -> List[dict]:
        root = self.data_prefix.get('img_path') or self.data_root or ''
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'ScanNet frames folder not found: {root!r} (expected '
                'scannet_frames_25k/<scene>/color/*.jpg).')
        label_map = compose_label_map(scannet20_lut(), self.label_map)
        data_list, missing_label = [], 0
        for scene in self._scenes(root):
            img_dir = osp.join(root, scene, self.img_subdir)
            seg_dir = osp.join(root, scene, self.seg_subdir)
            if not osp.isdir(img_dir):
                raise FileNotFoundError(
                    f'scene {scene} listed in {self.ann_file} has no '
                    f'{img_dir}')
            depth_dir = osp.join(root, scene, self.depth_subdir) \
                if self.depth_subdir else None
            for name in sorted(os.listdir(img_dir)):
                if not name.endswith(self.img_suffix):
                    continue
                stem = name[:-len(self.img_suffix)]
                seg_path = osp.join(seg_dir, stem + self.seg_map_suffix)
                if not osp.isfile(seg_path):
                    missing_label += 1
                    continue
                data_list.append(
                    seg_frame_info(
                        osp.join(img_dir, name), seg_path, label_map, False,
                        scene=scene,
                        **depth_map_path_if_any(depth_dir, stem)))
        if missing_label:
            print_log(f'ScanNet2DSegDataset: skipped {missing_label} frames '
                      'without a label file', logger='current')
        if not data_list:
            raise FileNotFoundError(
                f'no labelled frames under {root} (<scene>/{self.img_subdir}'
                f'/*{self.img_suffix} with <scene>/{self.seg_subdir}/*'
                f'{self.seg_map_suffix}).')
        return data_list
