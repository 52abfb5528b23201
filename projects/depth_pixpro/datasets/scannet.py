"""ScanNet RGB-D frames for pretraining (mmpretrain ``DATASETS``).

Reads both layouts of data-formats.md 1a, scene by scene::

    data_root/<scene>/color/<i>.jpg   depth/<i>.png   pose/<i>.txt
        (export of SensReader ``reader.py`` or of our converter
         ``tools/dataset_converters/scannet_sens.py``: unpadded frame
         numbers; reader.py keeps colour at 1296x968)
    data_root/<scene>/color/%06d.jpg  depth/%06d.png  pose/%06d.txt
        (``scannet_frames_25k``: zero-padded names, 640x480)

``data_root`` may also be one exported scene (it contains ``color/``).
Depth PNGs are uint16 millimetres. Frames whose pose holds ``-inf``/NaN
(lost tracking) are skipped, as are colour frames without a depth map.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmpretrain.registry import DATASETS

from .base_rgbd import BaseRGBDDataset, list_files, read_name_list
from .transforms.depth_loading import check_depth_scale

__all__ = ['ScanNetRGBDDataset', 'pose_is_valid']


def pose_is_valid(pose_path: str) -> bool:
    """False when the 4x4 pose text holds ``inf`` or ``nan`` (lost
    tracking); a missing pose file counts as valid (poses are optional for
    pretraining)."""
    if not osp.isfile(pose_path):
        return True
    with open(pose_path) as f:
        text = f.read().lower()
    return 'inf' not in text and 'nan' not in text


def _frame_sort_key(stem: str):
    return (0, int(stem), '') if stem.isdigit() else (1, 0, stem)


@DATASETS.register_module()
class ScanNetRGBDDataset(BaseRGBDDataset):
    """ScanNet exported frames (or ``scannet_frames_25k``) with depth.

    Args:
        data_root (str): Folder of scene folders, or one scene folder.
        split_file (str, optional): Text file of scene names, one a line
            (e.g. ``scannetv2_train.txt``), relative to ``data_root`` or
            absolute. Defaults to None (every scene found).
        scenes (Sequence[str], optional): Explicit scene names (instead of
            ``split_file``). Defaults to None.
        frame_step (int): Keep every ``frame_step``-th frame of each scene
            (in frame-number order). Defaults to 1.
        resize_img_to_depth (bool): Resize colour to the depth resolution
            in ``LoadDepth`` (reader.py exports colour at 1296x968, depth at
            640x480); the results key of the same name. If False, depth is
            resized to the colour (nearest, with a warning). Defaults to True.
        skip_invalid_pose (bool): Drop frames whose pose has -inf/NaN. Reads
            one small text file per frame at start-up. Defaults to True.
        depth_scale (float): ``metres = raw / depth_scale``. Defaults to 1000.
        color_suffix (str): Defaults to ``'.jpg'``.
        depth_suffix (str): Defaults to ``'.png'``.
        **kwargs: See :class:`BaseRGBDDataset`.
    """

    PREPARE_HINT = (
        'Export the .sens streams with `python tools/dataset_converters/'
        'scannet_sens.py scans/*/*.sens --out DATA_ROOT --frame-skip 10` '
        '(or unpack scannet_frames_25k there); see README, section '
        '"Datasets" (ScanNet).')
    #: Indoor structured-light depth: metres, well inside this range.
    EXPECTED_DEPTH_RANGE = (0.05, 20.0)

    def __init__(self,
                 data_root: str,
                 split_file: Optional[str] = None,
                 scenes: Optional[Sequence[str]] = None,
                 frame_step: int = 1,
                 resize_img_to_depth: bool = True,
                 skip_invalid_pose: bool = True,
                 depth_scale: float = 1000.0,
                 color_suffix: str = '.jpg',
                 depth_suffix: str = '.png',
                 **kwargs):
        if int(frame_step) < 1:
            raise ValueError(f'frame_step must be >= 1, got {frame_step}')
        self.split_file = split_file
        self.scenes = list(scenes) if scenes is not None else None
        self.frame_step = int(frame_step)
        self.resize_img_to_depth = resize_img_to_depth
        self.skip_invalid_pose = skip_invalid_pose
        check_depth_scale(depth_scale, type(self).__name__)
        self.depth_scale = float(depth_scale)
        self.color_suffix = color_suffix
        self.depth_suffix = depth_suffix
        super().__init__(data_root=data_root, **kwargs)

    def describe_selection(self) -> str:
        return (f'split_file={self.split_file}, scenes={self.scenes}, '
                f'color/*{self.color_suffix} + depth/*{self.depth_suffix}')

    def _scene_dirs(self) -> List[str]:
        """Scene folders (relative to ``data_root``; '' = the root)."""
        if osp.isdir(osp.join(self.data_root, 'color')):
            return ['']
        names = self.scenes
        if names is None and self.split_file is not None:
            path = self.split_file if osp.isabs(self.split_file) else \
                osp.join(self.data_root, self.split_file)
            names = read_name_list(path)
        if names is None:  # hidden folders: unfinished converter output
            return sorted(
                d for d in os.listdir(self.data_root)
                if not d.startswith('.')
                and osp.isdir(osp.join(self.data_root, d, 'color')))
        missing = [n for n in names
                   if not osp.isdir(osp.join(self.data_root, n, 'color'))]
        self.log_skipped(type(self).__name__, len(missing),
                         'scene listed but not found', missing)
        return [n for n in names if n not in set(missing)]

    def load_data_list(self) -> List[dict]:
        """List (colour, depth) pairs of every selected scene."""
        data_list = []
        no_depth, bad_pose = [], []
        for scene in self._scene_dirs():
            root = osp.join(self.data_root, scene)
            stems = [f[:-len(self.color_suffix)] for f in
                     list_files(osp.join(root, 'color'), self.color_suffix)]
            stems.sort(key=_frame_sort_key)
            depths = set(list_files(osp.join(root, 'depth'),
                                    self.depth_suffix))
            for stem in stems[::self.frame_step]:
                depth_name = stem + self.depth_suffix
                if depth_name not in depths:
                    no_depth.append(osp.join(scene, stem))
                    continue
                if self.skip_invalid_pose and not pose_is_valid(
                        osp.join(root, 'pose', stem + '.txt')):
                    bad_pose.append(osp.join(scene, stem))
                    continue
                data_list.append(self.make_item(
                    osp.join(root, 'color', stem + self.color_suffix),
                    osp.join(root, 'depth', depth_name),
                    depth_format='png',
                    depth_scale=self.depth_scale,
                    resize_img_to_depth=self.resize_img_to_depth,
                    scene=scene,
                    frame_id=stem))
        name = type(self).__name__
        self.log_skipped(name, len(no_depth), 'no depth map', no_depth)
        self.log_skipped(name, len(bad_pose), 'invalid (-inf) pose',
                         bad_pose)
        self.num_skipped = dict(no_depth=len(no_depth),
                                invalid_pose=len(bad_pose))
        return data_list
