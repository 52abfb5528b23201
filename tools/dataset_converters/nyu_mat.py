"""Convert the NYU Depth v2 labeled set (``.mat``) to image files.

Usage::

    python tools/dataset_converters/nyu_mat.py nyu_depth_v2_labeled.mat \\
        --out data/nyuv2 [--splits splits.mat] [--mapping classMapping40.mat]
        [--depth filled|raw]

Inputs (all from the official NYUv2 page / common meta-data repositories):

* ``nyu_depth_v2_labeled.mat`` (required): MATLAB v7.3 = HDF5, read with
  h5py, which sees the arrays transposed: ``images`` (N, 3, W, H) uint8,
  ``depths`` / ``rawDepths`` (N, W, H) float metres, ``labels`` (N, W, H)
  raw class ids (0 = unlabeled, 1..894).
* ``--splits splits.mat`` (optional): ``trainNdxs`` (795) and ``testNdxs``
  (654), 1-based. Without it no split files are written (the standard split
  cannot be derived from the labeled ``.mat`` itself).
* ``--mapping`` (optional, needed for labels): the 894 -> 40 class mapping of
  Gupta et al., either ``classMapping40.mat`` (variable ``mapClass``, 1x894,
  values 1..40), or a ``.npy``/``.txt`` array of 894 values (entry ``k - 1``
  is the NYU-40 id of raw id ``k``; 895 values: entry ``k``). Without it
  no labels are written (pretraining needs only RGB + depth).

Output (read by ``NYUv2RGBDDataset``; NNNN = 1-based index in the .mat)::

    OUT/rgb/NNNN.png       RGB 640x480
    OUT/depth/NNNN.png     uint16 millimetres, 0 = invalid
    OUT/label40/NNNN.png   uint8 NYU-40 train ids 0..39, 255 = unlabeled
    OUT/label13/NNNN.png   uint8 13-class ids 0..12 (as nyuv2_mini), 255
    OUT/splits/train.txt, OUT/splits/test.txt   one NNNN a line
"""
import argparse
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from mmengine.utils import track_iter_progress

from projects.depth_pixpro.datasets.depth_io import encode_depth_png
from projects.depth_pixpro.datasets.segmentation.label_tables import (
    IGNORE_INDEX, nyu40_to_13_lut)
from projects.depth_pixpro.utils.atomic import write_image_atomic

NUM_RAW_CLASSES = 894
#: NYUv2 Kinect depth is metres, at most about 10 m; a frame whose valid
#: depth has a median beyond this is in another unit.
MAX_PLAUSIBLE_DEPTH = 20.0


def load_raw_to_40(path: str) -> np.ndarray:
    """Load the 894 -> 40 mapping as a LUT over raw ids 0..894 (0 -> 0).

    Args:
        path (str): ``classMapping40.mat`` (``mapClass``) or ``.npy``/``.txt``.

    Returns:
        np.ndarray: ``int64`` array of 895 entries with values in 0..40.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Class mapping {path} does not exist.')
    if path.endswith('.mat'):
        import scipy.io
        mat = scipy.io.loadmat(path)
        if 'mapClass' not in mat:
            raise ValueError(f'{path} has no variable "mapClass" (found '
                             f'{[k for k in mat if not k.startswith("__")]})'
                             '; expected classMapping40.mat.')
        values = np.asarray(mat['mapClass']).ravel()
    elif path.endswith('.npy'):
        values = np.load(path).ravel()
    else:
        values = np.loadtxt(path).ravel()
    values = values.astype(np.int64)
    if values.size == NUM_RAW_CLASSES:
        values = np.concatenate([[0], values])
    if values.size != NUM_RAW_CLASSES + 1:
        raise ValueError(f'{path}: expected {NUM_RAW_CLASSES} (or '
                         f'{NUM_RAW_CLASSES + 1}) mapping values, got '
                         f'{values.size}.')
    if values.min() < 0 or values.max() > 40:
        raise ValueError(f'{path}: NYU-40 ids must lie in 0..40, got '
                         f'{values.min()}..{values.max()}.')
    values[0] = 0
    return values


def load_splits(path: str) -> Dict[str, np.ndarray]:
    """``{'train': idx, 'test': idx}`` (1-based) from ``splits.mat``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Split file {path} does not exist.')
    import scipy.io
    try:
        mat = scipy.io.loadmat(path)
        get = mat.__getitem__
    except NotImplementedError:  # saved as v7.3 (HDF5)
        import h5py
        mat = h5py.File(path, 'r')
        get = lambda k: mat[k][()]  # noqa: E731
    try:
        return dict(train=np.asarray(get('trainNdxs')).ravel().astype(int),
                    test=np.asarray(get('testNdxs')).ravel().astype(int))
    except KeyError as e:
        raise ValueError(f'{path} lacks trainNdxs/testNdxs: {e}') from e


def to_hwc(img_3wh: np.ndarray) -> np.ndarray:
    """h5py's (3, W, H) MATLAB image -> (H, W, 3)."""
    return np.ascontiguousarray(np.transpose(img_3wh, (2, 1, 0)))


def metres_to_mm(depth: np.ndarray) -> np.ndarray:
    """Float metres -> uint16 millimetres (:func:`encode_depth_png`:
    non-finite, negative or beyond 65.535 m -> 0 = invalid)."""
    return encode_depth_png(depth)


def check_metres(depth: np.ndarray, where: str) -> None:
    """Raise if a depth map is clearly not in metres (e.g. millimetres,
    which would all be stored as invalid or saturated)."""
    valid = depth[np.isfinite(depth) & (depth > 0)]
    if valid.size and np.median(valid) > MAX_PLAUSIBLE_DEPTH:
        raise ValueError(
            f'{where}: median depth {np.median(valid):.4g}, but NYUv2 depth '
            f'is metres (at most about 10 m; checked up to '
            f'{MAX_PLAUSIBLE_DEPTH:g}). Millimetres? Convert them to metres '
            'first.')


def convert(mat_path: str,
            out_dir: str,
            splits_path: Optional[str] = None,
            mapping_path: Optional[str] = None,
            depth_field: str = 'depths') -> Dict[str, int]:
    """Write the frames of ``mat_path`` to ``out_dir`` (module doc).

    Returns:
        dict: ``frames`` written, ``labeled`` (1 if labels were written),
        and the split sizes.
    """
    import h5py
    if not osp.isfile(mat_path):
        raise FileNotFoundError(f'{mat_path} does not exist; download '
                                'nyu_depth_v2_labeled.mat from the NYU Depth '
                                'v2 page.')
    if not h5py.is_hdf5(mat_path):
        raise ValueError(f'{mat_path} is not a MATLAB v7.3 (HDF5) file; '
                         'expected nyu_depth_v2_labeled.mat.')
    raw_to_40 = load_raw_to_40(mapping_path) if mapping_path else None
    splits = load_splits(splits_path) if splits_path else None
    lut13 = nyu40_to_13_lut()
    summary = {}
    with h5py.File(mat_path, 'r') as f:
        needed = ['images', depth_field] + (
            ['labels'] if raw_to_40 is not None else [])
        missing = [k for k in needed if k not in f]
        if missing:
            raise ValueError(f'{mat_path} lacks {missing} (has '
                             f'{sorted(f.keys())}).')
        images, depths = f['images'], f[depth_field]
        num = images.shape[0]
        if images.ndim != 4 or images.shape[1] != 3 or \
                depths.shape != (num, ) + images.shape[2:]:
            raise ValueError(f'{mat_path}: unexpected shapes images '
                             f'{images.shape}, {depth_field} {depths.shape} '
                             '(expected (N,3,W,H) and (N,W,H)).')
        dirs = ['rgb', 'depth'] + (['label40', 'label13']
                                   if raw_to_40 is not None else [])
        for d in dirs:
            os.makedirs(osp.join(out_dir, d), exist_ok=True)
        for i in track_iter_progress(range(num)):
            name = f'{i + 1:04d}.png'
            rgb = to_hwc(images[i])
            write_image_atomic(osp.join(out_dir, 'rgb', name), rgb[..., ::-1])
            depth = np.asarray(depths[i]).T
            check_metres(depth, f'{mat_path} frame {i + 1} ({depth_field})')
            write_image_atomic(osp.join(out_dir, 'depth', name),
                               metres_to_mm(depth))
            if raw_to_40 is None:
                continue
            raw = np.asarray(f['labels'][i]).T.astype(np.int64)
            if raw.max() > NUM_RAW_CLASSES or raw.min() < 0:
                raise ValueError(f'{mat_path}: frame {i + 1} has label ids '
                                 f'outside 0..{NUM_RAW_CLASSES}.')
            lab40 = raw_to_40[raw]
            train40 = np.where(lab40 > 0, lab40 - 1,
                               IGNORE_INDEX).astype(np.uint8)
            write_image_atomic(osp.join(out_dir, 'label40', name), train40)
            write_image_atomic(osp.join(out_dir, 'label13', name),
                               lut13[lab40.astype(np.uint8)])
        summary['frames'] = num
    summary['labeled'] = int(raw_to_40 is not None)
    if splits is not None:
        os.makedirs(osp.join(out_dir, 'splits'), exist_ok=True)
        for split, idx in splits.items():
            if idx.min() < 1 or idx.max() > num:
                raise ValueError(f'{splits_path}: {split} indices must be in '
                                 f'1..{num}, got {idx.min()}..{idx.max()}.')
            with open(osp.join(out_dir, 'splits', f'{split}.txt'), 'w') as fo:
                fo.writelines(f'{k:04d}\n' for k in sorted(idx))
            summary[split] = len(idx)
    return summary


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert nyu_depth_v2_labeled.mat to rgb/depth/label '
        'PNGs (see the module docstring for the inputs).')
    parser.add_argument('mat', help='nyu_depth_v2_labeled.mat (HDF5)')
    parser.add_argument('--out', required=True, help='output root')
    parser.add_argument('--splits', help='splits.mat (trainNdxs/testNdxs)')
    parser.add_argument('--mapping', help='classMapping40.mat or an array '
                        'file of the 894 -> 40 class mapping')
    parser.add_argument('--depth', choices=['filled', 'raw'],
                        default='filled', help="'filled': in-painted "
                        "`depths` (default); 'raw': `rawDepths` with holes")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    """Command-line entry; returns the summary of :func:`convert`."""
    args = parse_args(argv)
    if args.mapping is None:
        print('note: no --mapping given: writing rgb/ and depth/ only '
              '(no 40/13-class labels).')
    if args.splits is None:
        print('note: no --splits given: no splits/*.txt written.')
    summary = convert(args.mat, args.out, args.splits, args.mapping,
                      'depths' if args.depth == 'filled' else 'rawDepths')
    print(f'\ndone: {summary}')
    return summary


if __name__ == '__main__':
    main()
