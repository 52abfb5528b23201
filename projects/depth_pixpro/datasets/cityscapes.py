"""Cityscapes left images + stereo depth for pretraining (mmpretrain).

Layout (data-formats.md 1b)::

    data_root/leftImg8bit/{split}/{city}/{city}_{seq}_{frame}_leftImg8bit.png
    data_root/disparity/{split}/{city}/{city}_{seq}_{frame}_disparity.png
    data_root/camera/{split}/{city}/{city}_{seq}_{frame}_camera.json

``LoadDepth`` turns the disparity into metres with the frame's camera:
``z = baseline * fx / ((p - 1) / 256)``, ``p <= 1`` invalid; far stereo depth
is noisy, so depth beyond ``max_depth`` is marked invalid. The samples'
``depth_kind`` is therefore always ``'metric'``.
"""
import os.path as osp
from typing import List, Sequence, Union

from mmpretrain.registry import DATASETS

from .base_rgbd import BaseRGBDDataset, list_files

__all__ = ['CityscapesRGBDDataset']

IMG_SUFFIX = '_leftImg8bit.png'
DISP_SUFFIX = '_disparity.png'
CAMERA_SUFFIX = '_camera.json'


@DATASETS.register_module()
class CityscapesRGBDDataset(BaseRGBDDataset):
    """Cityscapes ``leftImg8bit`` + ``disparity`` + ``camera``.

    Args:
        data_root (str): Cityscapes root.
        split (str | Sequence[str]): ``'train'``, ``'val'``, ``'test'``,
            ``'train_extra'`` or several. Defaults to ``'train'``.
        max_depth (float, optional): Depth beyond it (metres) is invalid.
            Defaults to 100.
        **kwargs: See :class:`BaseRGBDDataset`.
    """

    PREPARE_HINT = (
        'Download and unzip leftImg8bit_trainvaltest.zip, '
        'disparity_trainvaltest.zip and camera_trainvaltest.zip from '
        'cityscapes-dataset.com into DATA_ROOT; see README, section '
        '"Datasets" (Cityscapes).')

    def __init__(self,
                 data_root: str,
                 split: Union[str, Sequence[str]] = 'train',
                 max_depth: float = 100.0,
                 **kwargs):
        kind = kwargs.pop('depth_kind', 'metric')
        if kind != 'metric':
            raise ValueError(
                f'CityscapesRGBDDataset: depth_kind={kind!r}, but the '
                'disparity is converted to metric depth on load: its kind is '
                "'metric'; remove depth_kind from the dataset config.")
        self.splits = [split] if isinstance(split, str) else list(split)
        self.max_depth = max_depth
        super().__init__(data_root=data_root, **kwargs)

    def describe_selection(self) -> str:
        return (f'split={self.splits}, leftImg8bit/<split>/<city>/'
                f'*{IMG_SUFFIX} with disparity/ and camera/')

    def load_data_list(self) -> List[dict]:
        """List the frames having an image, a disparity and a camera."""
        data_list, incomplete = [], []
        for split in self.splits:
            img_root = osp.join(self.data_root, 'leftImg8bit', split)
            for rel in list_files(img_root, IMG_SUFFIX, recursive=True):
                stem = rel[:-len(IMG_SUFFIX)]
                disp = osp.join(self.data_root, 'disparity', split,
                                stem + DISP_SUFFIX)
                cam = osp.join(self.data_root, 'camera', split,
                               stem + CAMERA_SUFFIX)
                if not (osp.isfile(disp) and osp.isfile(cam)):
                    incomplete.append(rel)
                    continue
                data_list.append(self.make_item(
                    osp.join(img_root, rel), disp,
                    depth_format='cityscapes_disparity',
                    camera_path=cam,
                    max_depth=self.max_depth))
        self.log_skipped(type(self).__name__, len(incomplete),
                         'no disparity or camera file', incomplete)
        return data_list
