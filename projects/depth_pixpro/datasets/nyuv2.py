"""NYU Depth v2 RGB-D frames for pretraining (mmpretrain ``DATASETS``).

Reads the layout written by ``tools/dataset_converters/nyu_mat.py``::

    data_root/rgb/NNNN.png        RGB, 640x480 (NNNN = 1-based .mat index)
    data_root/depth/NNNN.png      uint16 millimetres
    data_root/label40/NNNN.png    uint8 0..39, 255 = unlabeled (segmentation)
    data_root/label13/NNNN.png    uint8 0..12, 255 = unlabeled (segmentation)
    data_root/splits/{train,test}.txt   one NNNN a line

and the ``nyuv2_mini`` fixture layout (``rgb/``, ``depth/``, ``label/``,
``unlabeled/rgb``, ``unlabeled/depth``). Labels are not read here (see the
segmentation datasets).
"""
import os.path as osp
from typing import List, Optional

from mmpretrain.registry import DATASETS

from .base_rgbd import BaseRGBDDataset, list_files, read_name_list
from .transforms.depth_loading import check_depth_scale

__all__ = ['NYUv2RGBDDataset']


@DATASETS.register_module()
class NYUv2RGBDDataset(BaseRGBDDataset):
    """NYUv2 (labeled set export, or ``nyuv2_mini``) RGB + depth.

    Args:
        data_root (str): Root with ``rgb/`` and ``depth/``.
        split (str, optional): Name of ``splits/<split>.txt`` (``'train'``:
            795 frames, ``'test'``: 654) selecting frames. Defaults to None
            (all frames).
        include_unlabeled (bool): Also use ``unlabeled/rgb`` +
            ``unlabeled/depth`` (frames without labels: more pretraining
            data). Defaults to False.
        depth_scale (float): ``metres = raw / depth_scale``. Defaults to 1000.
        img_suffix (str): Defaults to ``'.png'``.
        depth_suffix (str): Defaults to ``'.png'``.
        **kwargs: See :class:`BaseRGBDDataset`.
    """

    PREPARE_HINT = (
        'Convert the labeled set with `python tools/dataset_converters/'
        'nyu_mat.py nyu_depth_v2_labeled.mat --splits splits.mat --mapping '
        'classMapping40.mat --out DATA_ROOT`; see README, section '
        '"Datasets" (NYUv2).')
    #: Indoor Kinect depth: metres, well inside this range.
    EXPECTED_DEPTH_RANGE = (0.05, 20.0)

    def __init__(self,
                 data_root: str,
                 split: Optional[str] = None,
                 include_unlabeled: bool = False,
                 depth_scale: float = 1000.0,
                 img_suffix: str = '.png',
                 depth_suffix: str = '.png',
                 **kwargs):
        self.split = split
        self.include_unlabeled = include_unlabeled
        check_depth_scale(depth_scale, type(self).__name__)
        self.depth_scale = float(depth_scale)
        self.img_suffix = img_suffix
        self.depth_suffix = depth_suffix
        super().__init__(data_root=data_root, **kwargs)

    def describe_selection(self) -> str:
        return (f'split={self.split}, include_unlabeled='
                f'{self.include_unlabeled}, rgb/*{self.img_suffix} + '
                f'depth/*{self.depth_suffix}')

    def _split_names(self) -> Optional[set]:
        if self.split is None:
            return None
        path = osp.join(self.data_root, 'splits', f'{self.split}.txt')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: split file {path} does not exist; '
                'use split=None for all frames, or convert with nyu_mat.py '
                '--splits splits.mat.')
        return set(read_name_list(path))

    def _list_pairs(self, folder: str, keep: Optional[set],
                    labeled: bool) -> List[dict]:
        img_dir = osp.join(folder, 'rgb')
        depth_dir = osp.join(folder, 'depth')
        depths = set(list_files(depth_dir, self.depth_suffix))
        items, no_depth = [], []
        for name in list_files(img_dir, self.img_suffix):
            stem = name[:-len(self.img_suffix)]
            if keep is not None and stem not in keep:
                continue
            if stem + self.depth_suffix not in depths:
                no_depth.append(name)
                continue
            items.append(self.make_item(
                osp.join(img_dir, name),
                osp.join(depth_dir, stem + self.depth_suffix),
                depth_format='png',
                depth_scale=self.depth_scale,
                frame_id=stem,
                labeled=labeled))
        self.log_skipped(type(self).__name__, len(no_depth), 'no depth map',
                         no_depth)
        return items

    def load_data_list(self) -> List[dict]:
        """List labeled (then unlabeled, if asked) frames with depth."""
        keep = self._split_names()
        data_list = self._list_pairs(self.data_root, keep, labeled=True)
        if self.include_unlabeled:
            data_list += self._list_pairs(
                osp.join(self.data_root, 'unlabeled'), keep, labeled=False)
        return data_list
