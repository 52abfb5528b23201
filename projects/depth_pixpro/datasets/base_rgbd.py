"""Shared base of the RGB-D pretraining datasets (mmpretrain registry).

Every item is a dict for ``LoadImageFromFile`` + ``LoadDepth``::

    img_path, depth_map_path, depth_format, depth_scale, depth_kind
    [+ camera_path, max_depth, resize_img_to_depth, ...]

There are no labels: pretraining is self-supervised.
"""
import os
import os.path as osp
from typing import Callable, Iterable, List, Optional, Sequence

from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset

from .. import structures as K
from ..depth_kinds import check_depth_kind

__all__ = [
    'BaseRGBDDataset', 'SampleLoadError', 'list_files', 'walk_files',
    'read_name_list'
]


class SampleLoadError(RuntimeError):
    """A sample's files could not be loaded (the message names them)."""


def _scan(folder: str) -> List[os.DirEntry]:
    """Sorted entries of a folder; an unreadable folder is an error that
    says so."""
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except PermissionError as e:
        raise PermissionError(
            f'Cannot list the folder {folder}: permission denied. Make it '
            'readable (e.g. chmod -R u+rX) or leave it out of the dataset.'
        ) from e


def walk_files(folder: str,
               accept: Callable[[str], bool],
               exclude_dirs: Iterable[str] = ()) -> List[str]:
    """Files under ``folder`` (following symlinks) whose name is accepted.

    Each real file is listed once and each real folder visited once, so
    symlink loops (``rgb/up -> ..``) end and a frame reached through several
    links is not repeated: the first path met (top-down, sorted) wins.

    Args:
        folder (str): Directory to walk.
        accept (Callable[[str], bool]): Keep a file of this base name.
        exclude_dirs (Iterable[str]): Folders (any path to them) not to
            enter, e.g. an output folder inside the input folder.

    Returns:
        list[str]: Sorted paths relative to ``folder``.
    """
    skip = {osp.realpath(d) for d in exclude_dirs}
    seen_dirs, seen_files, found = set(), set(), []
    stack = [(folder, '')]
    while stack:
        path, rel = stack.pop()
        real = osp.realpath(path)
        if real in seen_dirs or real in skip:
            continue
        seen_dirs.add(real)
        subdirs = []
        for entry in _scan(path):
            name = osp.join(rel, entry.name) if rel else entry.name
            if entry.is_dir():  # follows symlinks
                subdirs.append((entry.path, name))
            elif entry.is_file() and accept(entry.name):
                real_file = osp.realpath(entry.path)
                if real_file not in seen_files:
                    seen_files.add(real_file)
                    found.append(name)
        stack.extend(reversed(subdirs))  # depth-first, in sorted order
    return sorted(found)


def list_files(folder: str, suffix: str, recursive: bool = False) -> List[str]:
    """Names (relative to ``folder``) of the files ending with ``suffix``.

    Args:
        folder (str): Directory to scan; a missing one gives ``[]``.
        suffix (str): File name ending, e.g. ``'.png'`` or ``'_x.png'``.
        recursive (bool): Descend into sub-directories (each real file and
            folder once, see :func:`walk_files`). Defaults to False.

    Returns:
        list[str]: Sorted relative paths.
    """
    if not osp.isdir(folder):
        return []
    if recursive:
        return walk_files(folder, lambda name: name.endswith(suffix))
    return sorted(e.name for e in _scan(folder)
                  if e.name.endswith(suffix) and e.is_file())


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
        depth_kind (str): ``'metric'``, ``'inverse'``, ``'scale_free'`` or
            ``'affine'``, recorded in every item. Defaults to ``'metric'``.
        ann_file (str): Optional list file, relative to ``data_root``.
        **kwargs: Passed to :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``indices``, ``serialize_data``, ...).
    """

    #: How to create this dataset; shown when the root is missing or empty.
    PREPARE_HINT = 'See README, section "Datasets".'
    #: Plausible metric depth (metres) of a frame, checked by ``LoadDepth``
    #: (None: its generic default).
    EXPECTED_DEPTH_RANGE = None

    def __init__(self,
                 data_root: str,
                 depth_kind: str = 'metric',
                 ann_file: str = '',
                 **kwargs):
        if not data_root or not osp.isdir(osp.expanduser(data_root)):
            raise FileNotFoundError(
                f'{type(self).__name__}: dataset root {data_root!r} does not '
                f'exist. {self.PREPARE_HINT}')
        self.depth_kind = check_depth_kind(
            depth_kind, f'{type(self).__name__}(depth_kind=...)')
        super().__init__(
            ann_file=ann_file,
            data_root=osp.expanduser(data_root),
            **kwargs)

    def prepare_data(self, idx: int):
        """The sample through the pipeline; an error that does not name the
        sample's files (e.g. OpenCV's ``!buf.empty()`` for a 0-byte image)
        is raised again as :class:`SampleLoadError` naming them."""
        try:
            return super().prepare_data(idx)
        except Exception as err:
            info = self.get_data_info(idx)
            paths = [str(info[key]) for key in (K.IMG_PATH, K.DEPTH_PATH)
                     if info.get(key)]
            if any(path in str(err) for path in paths):
                raise
            raise SampleLoadError(
                f'{type(self).__name__}: cannot load sample {idx} (image '
                f'{info.get(K.IMG_PATH)}, depth {info.get(K.DEPTH_PATH)}): '
                f'{type(err).__name__}: {str(err).strip()}') from err

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

    def make_item(self, img_path: str, depth_map_path: Optional[str],
                  **extra) -> dict:
        """One data item with the depth format information
        (``depth_map_path=None``: an image without depth)."""
        item = {
            K.IMG_PATH: img_path,
            K.DEPTH_PATH: depth_map_path,
            K.DEPTH_KIND: self.depth_kind
        }
        if self.EXPECTED_DEPTH_RANGE is not None:
            item['expected_depth_range'] = self.EXPECTED_DEPTH_RANGE
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
