"""Shared base of the RGB-D pretraining datasets (mmpretrain registry).

Every item is a dict for ``LoadImageFromFile`` + ``LoadDepth``::

    img_path, depth_map_path, depth_format, depth_scale, depth_kind
    [+ camera_path, max_depth, resize_img_to_depth, ...]

There are no labels: pretraining is self-supervised.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset

from .. import structures as K
from ..structures import canonical_depth_kind

__all__ = ['BaseRGBDDataset', 'list_files', 'read_name_list']


def list_files(folder: str, suffix: str, recursive: bool = False) -> List[str]:
    """Names (relative to ``folder``) of the files ending with ``suffix``.

    Args:
        folder (str): Directory to scan; a missing one gives ``[]``.
        suffix (str): File name ending, e.g. ``'.png'`` or ``'_x.png'``.
        recursive (bool): Descend into sub-directories. Defaults to False.

    Returns:
        list[str]: Sorted relative paths.
    """
    if not osp.isdir(folder):
        return []
    if not recursive:
        return sorted(f for f in os.listdir(folder)
                      if f.endswith(suffix)
                      and osp.isfile(osp.join(folder, f)))
    found = []
    for root, _, files in os.walk(folder, followlinks=True):
        rel = osp.relpath(root, folder)
        found += [f if rel == '.' else osp.join(rel, f) for f in files
                  if f.endswith(suffix)]
    return sorted(found)


def read_name_list(path: str) -> List[str]:
    """Non-empty, stripped lines of a text file (scene or frame names)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'List file {path} does not exist.')
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


class BaseRGBDDataset(BaseDataset):
    """Base of the RGB + depth pretraining datasets.

    It checks at construction that ``data_root`` exists (so a training run
    fails at once, saying how to prepare the data) and, after listing, that
    the dataset is not empty. Subclasses implement :meth:`load_data_list`
    and set ``PREPARE_HINT``.

    Args:
        data_root (str): Dataset root directory.
        depth_kind (str): ``'metric'``, ``'inverse'`` or ``'scale_free'``
            (old spelling ``'relative'`` accepted with a DeprecationWarning),
            recorded in every item. Defaults to ``'metric'``.
        ann_file (str): Optional list file, relative to ``data_root``.
        **kwargs: Passed to :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``indices``, ``serialize_data``, ...).
    """

    #: How to create this dataset; shown when the root is missing or empty.
    PREPARE_HINT = 'See README, section "Datasets".'

    def __init__(self,
                 data_root: str,
                 depth_kind: str = 'metric',
                 ann_file: str = '',
                 **kwargs):
        if not data_root or not osp.isdir(osp.expanduser(data_root)):
            raise FileNotFoundError(
                f'{type(self).__name__}: dataset root {data_root!r} does not '
                f'exist. {self.PREPARE_HINT}')
        self.depth_kind = canonical_depth_kind(
            depth_kind, f'{type(self).__name__}(depth_kind=...)')
        super().__init__(
            ann_file=ann_file,
            data_root=osp.expanduser(data_root),
            **kwargs)

    def filter_data(self) -> List[dict]:
        """Fail clearly when the listing found nothing (before serialising,
        which cannot handle an empty list)."""
        data_list = super().filter_data()
        if not data_list:
            raise ValueError(
                f'{type(self).__name__}: no RGB-D frames found under '
                f'{self.data_root!r} ({self.describe_selection()}). '
                f'{self.PREPARE_HINT}')
        return data_list

    def describe_selection(self) -> str:
        """Short text of the options that select frames (for errors)."""
        return 'check the layout'

    def make_item(self, img_path: str, depth_path: str, **extra) -> dict:
        """One data item with the depth format information."""
        item = {
            K.IMG_PATH: img_path,
            K.DEPTH_PATH: depth_path,
            K.DEPTH_KIND: self.depth_kind
        }
        item.update(extra)
        return item

    @staticmethod
    def log_skipped(name: str, num: int, why: str,
                    examples: Optional[Sequence[str]] = None) -> None:
        """Warn once about frames left out of the list."""
        if num:
            ex = f' (e.g. {list(examples)[:3]})' if examples else ''
            print_log(f'{name}: skipped {num} frame(s): {why}{ex}',
                      logger='current', level=30)
