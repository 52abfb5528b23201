"""Semantic segmentation datasets for the downstream benchmark (mmseg).

All datasets are ``BaseSegDataset`` subclasses read by mmseg's own
``LoadImageFromFile`` + ``LoadAnnotations``: label remapping travels in each
item's ``label_map`` (a dict old id -> train id), which ``LoadAnnotations``
applies, so no custom transform is needed. Train ids are ``0..K-1`` and
``255`` is ignored (``ignore_index=255``).

* :class:`ScanNet2DSegDataset`: ``scannet_frames_25k`` (NYU40 ids in
  ``label/``) -> the 20 classes of the ScanNet 2D benchmark.
* :class:`NYUv2SegDataset` (40 classes) and :class:`NYUv2Seg13Dataset`
  (13 classes): the layout of ``tools/dataset_converters/nyu_mat.py`` and the
  ``nyuv2_mini`` fixture.
* :class:`SyntheticSceneSegDataset`: labels of the synthetic renderer,
  rendered once into a cache folder (seeds disjoint from pretraining).

Depth: when a ``depth/`` folder sits beside the images, each item also gets
``depth_map_path`` (uint16 mm PNG), so ``LoadDepthAnnotation
(depth_rescale_factor=1e-3)`` can follow ``LoadAnnotations``.
"""
import hashlib
import json
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence

import mmcv
import mmengine
import numpy as np
from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

IGNORE_INDEX = 255

# --------------------------------------------------------------------------
# Class definitions and label lookup tables
# --------------------------------------------------------------------------
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


def _compose_label_map(lut: Optional[np.ndarray],
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


def _depth_path_if_any(depth_dir: Optional[str], stem: str) -> dict:
    if depth_dir is None:
        return {}
    path = osp.join(depth_dir, stem + '.png')
    return {'depth_map_path': path} if osp.isfile(path) else {}


def _frame_info(img_path: str, seg_map_path: str,
                label_map: Optional[dict], reduce_zero_label: bool,
                **extra) -> dict:
    return dict(
        img_path=img_path,
        seg_map_path=seg_map_path,
        label_map=label_map,
        reduce_zero_label=reduce_zero_label,
        seg_fields=[],
        **extra)


# --------------------------------------------------------------------------
# ScanNet 2D (scannet_frames_25k)
# --------------------------------------------------------------------------
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
        label_map = _compose_label_map(scannet20_lut(), self.label_map)
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
                    _frame_info(
                        osp.join(img_dir, name), seg_path, label_map, False,
                        scene=scene,
                        **_depth_path_if_any(depth_dir, stem)))
        if missing_label:
            print_log(f'ScanNet2DSegDataset: skipped {missing_label} frames '
                      'without a label file', logger='current')
        if not data_list:
            raise FileNotFoundError(
                f'no labelled frames under {root} (<scene>/{self.img_subdir}'
                f'/*{self.img_suffix} with <scene>/{self.seg_subdir}/*'
                f'{self.seg_map_suffix}).')
        return data_list


# --------------------------------------------------------------------------
# NYU Depth v2
# --------------------------------------------------------------------------
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
                _frame_info(img_path, seg_path, self.label_map,
                            self.reduce_zero_label,
                            **_depth_path_if_any(depth_dir, frame)))
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


# --------------------------------------------------------------------------
# Synthetic scenes
# --------------------------------------------------------------------------
#: Segmentation seeds start here, so they never meet the pretraining seeds
#: (the synthetic pretraining set draws seeds from 0 upwards).
SEG_SEED_OFFSET = 10_000_000


def _synthetic_meta() -> dict:
    from .synthetic_scenes import CLASSES, PALETTE
    return dict(classes=tuple(CLASSES), palette=[list(p) for p in PALETTE])


def _write_atomic(path: str, array: np.ndarray) -> None:
    """Write an image so that concurrent ranks never read a partial file."""
    tmp = f'{path}.{os.getpid()}.tmp{osp.splitext(path)[1]}'
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not mmcv.imwrite(array, tmp):
        raise OSError(f'could not write {tmp}')
    os.replace(tmp, path)


@DATASETS.register_module()
class SyntheticSceneSegDataset(BaseSegDataset):
    """Labels of the synthetic RGB-D renderer as a segmentation dataset.

    Image ``i`` is ``render_scene(seed_offset + first_seed + i, size,
    difficulty)``. It is rendered once into ``cache_dir`` (PNG image, label
    and uint16-mm depth; deterministic, so ranks may share the folder) and
    then read like any file dataset, which keeps mmseg's standard pipelines,
    metrics and visualisation hooks working. Keep the train and val seed
    ranges (``first_seed`` .. ``first_seed + num_images``) disjoint.

    Args:
        num_images (int): Number of scenes.
        first_seed (int): First seed, relative to ``seed_offset``.
        size (tuple[int, int]): ``(H, W)``. Defaults to (128, 128).
        difficulty (float): Renderer difficulty in [0, 1]. Defaults to 0.5.
        seed_offset (int): Defaults to :data:`SEG_SEED_OFFSET` (10_000_000),
            disjoint from pretraining seeds.
        render_options (dict, optional): Extra ``render_scene`` options.
        cache_dir (str, optional): Cache root. Defaults to
            ``$TMPDIR/depth_pixpro_synthetic_seg``.
        **kwargs: :class:`BaseSegDataset` arguments (``pipeline``, ...).
    """
    METAINFO = dict()  # filled from synthetic_scenes.CLASSES in __init__

    def __init__(self,
                 num_images: int = 200,
                 first_seed: int = 0,
                 size: Sequence[int] = (128, 128),
                 difficulty: float = 0.5,
                 seed_offset: int = SEG_SEED_OFFSET,
                 render_options: Optional[dict] = None,
                 cache_dir: Optional[str] = None,
                 **kwargs) -> None:
        if num_images <= 0:
            raise ValueError(f'num_images must be > 0, got {num_images}')
        self.num_images = int(num_images)
        self.first_seed = int(first_seed)
        self.size = tuple(int(s) for s in size)
        self.difficulty = float(difficulty)
        self.seed_offset = int(seed_offset)
        self.render_options = dict(render_options or {})
        self.cache_dir = cache_dir or osp.join(tempfile.gettempdir(),
                                               'depth_pixpro_synthetic_seg')
        metainfo = _synthetic_meta()
        metainfo.update(kwargs.pop('metainfo', None) or {})
        super().__init__(
            img_suffix='.png', seg_map_suffix='.png', metainfo=metainfo,
            **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        # METAINFO is only known at run time: compare against the renderer's.
        old = _synthetic_meta()['classes']
        if new_classes is None or list(new_classes) == list(old):
            return None
        if not set(new_classes).issubset(old):
            raise ValueError(f'classes {new_classes} are not a subset of the '
                             f'synthetic classes {old}')
        return {i: (new_classes.index(c) if c in new_classes else 255)
                for i, c in enumerate(old)}

    def _scene_dir(self) -> str:
        key = json.dumps(
            dict(d=self.difficulty, o=self.render_options), sort_keys=True)
        digest = hashlib.sha1(key.encode()).hexdigest()[:8]
        return osp.join(self.cache_dir,
                        f'{self.size[0]}x{self.size[1]}_{digest}')

    def _render_missing(self, folder: str, seed: int) -> Dict[str, str]:
        paths = {
            kind: osp.join(folder, kind, f'{seed:09d}.png')
            for kind in ('img', 'label', 'depth')
        }
        if all(osp.isfile(p) for p in paths.values()):
            return paths
        from .synthetic_scenes import render_scene
        scene = render_scene(
            seed, size=self.size, difficulty=self.difficulty,
            **self.render_options)
        depth_mm = np.clip(np.round(scene['depth'] * 1000.0), 0, 65535)
        _write_atomic(paths['img'], scene['img'])
        _write_atomic(paths['label'], scene['label'].astype(np.uint8))
        _write_atomic(paths['depth'], depth_mm.astype(np.uint16))
        return paths

    def load_data_list(self) -> List[dict]:
        folder = self._scene_dir()
        data_list = []
        for i in range(self.num_images):
            seed = self.seed_offset + self.first_seed + i
            paths = self._render_missing(folder, seed)
            data_list.append(
                _frame_info(
                    paths['img'], paths['label'], self.label_map,
                    self.reduce_zero_label,
                    depth_map_path=paths['depth'], seed=seed))
        return data_list
