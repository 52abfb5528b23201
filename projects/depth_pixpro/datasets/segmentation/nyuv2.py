"""NYU Depth v2 semantic segmentation, 40 and 13 classes."""
import os
import os.path as osp
from typing import List, Optional

import mmengine
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .label_tables import NYU13_CLASSES, NYU40_CLASSES
from .utils import depth_map_path_if_any, seg_frame_info

__all__ = ['NYUv2SegDataset', 'NYUv2Seg13Dataset']


class _NYUv2SegBase(BaseSegDataset):
    """Shared reader of the NYUv2 layouts (see :class:`NYUv2SegDataset`)."""
    NUM_CLASSES = 0

    def __init__(self,
                 split: Optional[str] = 'train',
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        if split not in (None, 'train', 'test'):
            raise ValueError(f'split must be train, test or None, got {split}')
        self.split = split
        kwargs.setdefault('data_prefix', dict(img_path=''))
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    def _label_dir(self, root: str) -> str:
        full = osp.join(root, f'label{self.NUM_CLASSES}')
        if osp.isdir(full):
            return full
        mini = osp.join(root, 'label')
        if self.NUM_CLASSES == 13 and osp.isdir(mini):
            return mini  # nyuv2_mini: 13 classes in label/
        raise FileNotFoundError(
            f'no {full} under the NYUv2 root {root} (expected the layout of '
            'tools/dataset_converters/nyu_mat.py: rgb/, depth/, label13/, '
            'label40/, splits/; nyuv2_mini has label/ with 13 classes).')

    def _frame_ids(self, root: str, label_dir: str) -> List[str]:
        if self.split is None:
            return sorted(
                n[:-len(self.seg_map_suffix)] for n in os.listdir(label_dir)
                if n.endswith(self.seg_map_suffix))
        split_file = osp.join(root, 'splits', f'{self.split}.txt')
        if not osp.isfile(split_file):
            raise FileNotFoundError(
                f'NYUv2 split file not found: {split_file}. Write it with '
                'tools/dataset_converters/nyu_mat.py, or pass split=None to '
                'use every labelled frame (nyuv2_mini: all are test frames).')
        return [s.strip() for s in mmengine.list_from_file(split_file)
                if s.strip()]

    def load_data_list(self) -> List[dict]:
        root = self.data_prefix.get('img_path') or self.data_root or ''
        rgb_dir = osp.join(root, 'rgb')
        if not osp.isdir(rgb_dir):
            raise FileNotFoundError(f'NYUv2 images not found: {rgb_dir}')
        label_dir = self._label_dir(root)
        depth_dir = osp.join(root, 'depth')
        data_list = []
        for frame in self._frame_ids(root, label_dir):
            img_path = osp.join(rgb_dir, frame + self.img_suffix)
            seg_path = osp.join(label_dir, frame + self.seg_map_suffix)
            for path in (img_path, seg_path):
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'NYUv2 frame {frame}: {path} is missing')
            data_list.append(
                seg_frame_info(img_path, seg_path, self.label_map,
                            self.reduce_zero_label,
                            **depth_map_path_if_any(depth_dir, frame)))
        if not data_list:
            raise FileNotFoundError(f'no NYUv2 frames listed under {root}')
        return data_list


@DATASETS.register_module()
class NYUv2SegDataset(_NYUv2SegBase):
    """NYU Depth v2, 40 classes (795 train / 654 test frames).

    Layout (``tools/dataset_converters/nyu_mat.py``)::

        data_root/rgb/NNNN.png  depth/NNNN.png (uint16 mm)
                  label40/NNNN.png  label13/NNNN.png
                  splits/train.txt  splits/test.txt   (NNNN, one a line)

    Label PNGs hold train ids ``0..K-1`` and 255 = unlabelled. For files
    that store upstream ids (0 = unlabelled, 1..K) pass
    ``reduce_zero_label=True``.

    Args:
        split (str | None): ``train``, ``test`` (reads ``splits/<split>.txt``)
            or None (every labelled frame).
        **kwargs: :class:`BaseSegDataset` arguments.
    """
    METAINFO = dict(classes=NYU40_CLASSES)
    NUM_CLASSES = 40


@DATASETS.register_module()
class NYUv2Seg13Dataset(_NYUv2SegBase):
    """NYU Depth v2, 13 classes; also reads the ``nyuv2_mini`` layout
    (``rgb/``, ``label/``, no split files: use ``split=None``).

    See :class:`NYUv2SegDataset` for the layout and arguments.
    """
    METAINFO = dict(classes=NYU13_CLASSES)
    NUM_CLASSES = 13
