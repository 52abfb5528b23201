"""Any folder (or list file) of image + exogenous depth pairs (mmpretrain).

For RGB-D data in no known layout, or RGB data whose depth was predicted
offline by a monocular network (then set its ``depth_kind``: ``'inverse'``,
``'scale_free'`` or ``'affine'``). Two ways to pair images with depth maps:

* folders: ``data_root/img_dir/<name><img_suffix>`` with
  ``data_root/depth_dir/<name><depth_suffix>`` (sub-folders allowed);
* a list file ``ann_file``: lines ``img depth [label]``, paths relative to
  ``data_root`` (or absolute), separated by white space. A path holding
  spaces is quoted (``"my img.png" depth.png``), or the fields are separated
  by tabs; unquoted, the split whose paths all exist is taken.

Depth written by ``tools/generate_depth.py`` carries a ``depth_info.json`` in
its folder; its ``depth_kind`` and ``depth_scale`` are used unless given here.
Without it, ``depth_kind`` must be given: nothing in a folder of depth maps
says whether they are metres or a monocular network's output.
"""
import itertools
import os.path as osp
import re
import shlex
from typing import List, Optional

from mmpretrain.registry import DATASETS

from .base_rgbd import BaseRGBDDataset, list_files
from .depth_io import read_depth_info
from .transforms.depth_loading import check_depth_scale

__all__ = ['RGBDFolderDataset']


@DATASETS.register_module()
class RGBDFolderDataset(BaseRGBDDataset):
    """Image + depth pairs from two folders or a list file.

    Args:
        data_root (str): Root folder.
        img_dir (str): Image folder, relative to ``data_root``.
            Defaults to ``'rgb'``.
        depth_dir (str): Depth folder, relative to ``data_root``.
            Defaults to ``'depth'``.
        ann_file (str, optional): List file (see module doc), relative to
            ``data_root``; when given, the folders are not scanned.
            Defaults to None.
        depth_scale (float, optional): ``metres = raw / depth_scale``; None
            lets ``LoadDepth`` pick (1000 for PNG, 1 for ``.npy``/``.npz``).
            Defaults to None.
        depth_format (str, optional): ``'png'``, ``'npy'``, ``'npz'``; None
            infers it from the suffix. Defaults to None.
        depth_kind (str, optional): One of
            :data:`~projects.depth_pixpro.depth_kinds.DEPTH_KINDS`. None:
            from ``depth_dir/depth_info.json`` (written by
            ``tools/generate_depth.py``); without that file it must be given
            (a folder does not say whether it holds metres or a monocular
            network's output). Defaults to None.
        img_suffix (str): Defaults to ``'.png'``.
        depth_suffix (str): Defaults to ``'.png'``.
        keep_images_without_depth (bool): List images that have no depth
            map too (``depth_map_path=None``): they train exactly as PixPro
            (``has_depth=False``). Defaults to False (they are skipped).
        **kwargs: See :class:`BaseRGBDDataset`.
    """

    PREPARE_HINT = ('Put images in DATA_ROOT/<img_dir> and depth maps with '
                    'the same names in DATA_ROOT/<depth_dir>, or write a '
                    'list file of "img depth" lines; see README, section '
                    '"Datasets" (folders).')

    def __init__(self,
                 data_root: str,
                 img_dir: str = 'rgb',
                 depth_dir: str = 'depth',
                 ann_file: Optional[str] = None,
                 depth_scale: Optional[float] = None,
                 depth_format: Optional[str] = None,
                 depth_kind: Optional[str] = None,
                 img_suffix: str = '.png',
                 depth_suffix: str = '.png',
                 keep_images_without_depth: bool = False,
                 **kwargs):
        check_depth_scale(depth_scale, 'RGBDFolderDataset')
        info = read_depth_info(osp.join(str(data_root), depth_dir))
        if depth_kind is None:
            depth_kind = info.get('depth_kind')
        # (a missing root: the base class says so first)
        if depth_kind is None and osp.isdir(osp.expanduser(str(data_root))):
            raise ValueError(
                f'RGBDFolderDataset: the depth kind of '
                f'{osp.join(str(data_root), depth_dir)} is unknown: no '
                'depth_kind in the config and no depth_info.json beside the '
                "depth (tools/generate_depth.py writes one). Set depth_kind="
                "'metric' for metres (sensors, stereo), 'affine' for a "
                'relative monocular network (MiDaS/DPT, Depth Anything), '
                "'inverse' or 'scale_free'.")
        if depth_scale is None:
            depth_scale = info.get('depth_scale')
        self.img_dir = img_dir
        self.depth_dir = depth_dir
        self.depth_scale = depth_scale
        self.depth_format = depth_format
        self.img_suffix = img_suffix
        self.depth_suffix = depth_suffix
        self.keep_images_without_depth = keep_images_without_depth
        super().__init__(
            data_root=data_root,
            depth_kind=depth_kind,
            ann_file=ann_file or '',
            **kwargs)

    def describe_selection(self) -> str:
        if self.ann_file:
            return f'list file {self.ann_file}'
        return (f'{self.img_dir}/*{self.img_suffix} paired with '
                f'{self.depth_dir}/*{self.depth_suffix}')

    def _item(self, img_path: str, depth_map_path: Optional[str],
              **extra) -> dict:
        return self.make_item(
            img_path, depth_map_path,
            depth_format=self.depth_format,
            depth_scale=self.depth_scale,
            **extra)

    def _from_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'RGBDFolderDataset: list file {self.ann_file} does not '
                'exist.')
        items = []
        with open(self.ann_file) as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                fields = self._split_line(line, f'{self.ann_file}:{lineno}')
                paths = [osp.join(self.data_root, p) for p in fields]
                extra = dict(seg_map_path=paths[2]) if len(paths) == 3 \
                    else {}
                items.append(self._item(paths[0], paths[1], **extra))
        return items

    def _split_line(self, line: str, where: str) -> List[str]:
        """``[img, depth(, label)]`` of a list-file line (see module doc)."""
        line = line.strip()
        if '\t' in line:
            fields = [f.strip() for f in line.split('\t') if f.strip()]
        else:
            try:
                fields = shlex.split(line)
            except ValueError:  # e.g. an unpaired quote inside a name
                fields = []
        if len(fields) in (2, 3):
            return fields
        # unquoted paths with spaces: the grouping whose paths all exist
        tokens = re.split(r'(\s+)', line)
        words, gaps = tokens[0::2], tokens[1::2]
        found = []
        for num in (2, 3):
            for cuts in itertools.combinations(range(1, len(words)), num - 1):
                bounds = (0, ) + cuts + (len(words), )
                group = [
                    ''.join(w + (gaps[i] if i < b - 1 else '')
                            for i, w in enumerate(words[a:b], a))
                    for a, b in zip(bounds[:-1], bounds[1:])
                ]
                if all(osp.isfile(osp.join(self.data_root, g))
                       for g in group):
                    found.append(group)
        if len(found) == 1:
            return found[0]
        raise ValueError(
            f'{where}: expected "img depth [label]", got {line!r}. Quote '
            'paths that contain spaces ("my img.png" depth.png) or separate '
            'the fields by tabs.')

    def _from_folders(self) -> List[dict]:
        img_root = osp.join(self.data_root, self.img_dir)
        depth_root = osp.join(self.data_root, self.depth_dir)
        depths = set(list_files(depth_root, self.depth_suffix,
                                recursive=True))
        items, unpaired = [], []
        for rel in list_files(img_root, self.img_suffix, recursive=True):
            depth_rel = rel[:-len(self.img_suffix)] + self.depth_suffix
            if depth_rel not in depths:
                unpaired.append(rel)
                if self.keep_images_without_depth:
                    items.append(self._item(osp.join(img_root, rel), None))
                continue
            items.append(self._item(
                osp.join(img_root, rel), osp.join(depth_root, depth_rel)))
        if not self.keep_images_without_depth:
            self.log_skipped(type(self).__name__, len(unpaired),
                             'no depth map of the same name', unpaired)
        return items

    def load_data_list(self) -> List[dict]:
        """List the pairs from the list file, else from the folders."""
        return self._from_list() if self.ann_file else self._from_folders()
