"""Export ScanNet ``.sens`` streams to RGB-D frames for pretraining.

Usage::

    python tools/dataset_converters/scannet_sens.py \\
        scans/scene0000_00/scene0000_00.sens [more.sens ...] \\
        --out data/scannet/frames --frame-skip 10 [--size 640 480]

For each ``<scene>.sens`` (format v4, data-formats.md 1a) it writes, for
every ``frame-skip``-th frame whose camera pose is valid::

    OUT/<scene>/color/<i>.jpg        colour resized to the output size
    OUT/<scene>/depth/<i>.png        uint16 depth, millimetres (depth_shift)
    OUT/<scene>/pose/<i>.txt         4x4 camera-to-world
    OUT/<scene>/intrinsic/{intrinsic,extrinsic}_{color,depth}.txt

``<i>`` is the unpadded frame number (as ScanNet's ``reader.py``). The output
size defaults to the depth resolution (640x480), so colour (1296x968) is
resized to it (area interpolation); depth is resized only if ``--size``
differs from its resolution (nearest: no blending across depth edges). The
intrinsics are rescaled to the output size (pixel-centre convention of
``cv2.resize``: ``c' = (c + 0.5) * s - 0.5``, ``f' = f * s``). Frames whose
pose contains -inf/NaN (lost tracking) are skipped and counted. Read
``ScanNetRGBDDataset`` docs for loading the result.

A scene is written into a temporary folder beside ``OUT/<scene>`` and moved
there only when the whole ``.sens`` was read, so a truncated or corrupt file
(an error naming it) never leaves a partial scene that the dataset would
read. Header sizes and frame payloads are checked against plausible bounds
and the file size before anything is allocated.
"""
import argparse
import os
import os.path as osp
import shutil
import struct
import tempfile
import zlib
from typing import BinaryIO, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from projects.depth_pixpro.datasets.depth_io import write_depth_png
from projects.depth_pixpro.utils.atomic import write_image_atomic

COLOR_COMPRESSION = {-1: 'unknown', 0: 'raw', 1: 'png', 2: 'jpeg'}
DEPTH_COMPRESSION = {-1: 'unknown', 0: 'raw_ushort', 1: 'zlib_ushort',
                     2: 'occi_ushort'}
MATRIX_NAMES = ('intrinsic_color', 'extrinsic_color', 'intrinsic_depth',
                'extrinsic_depth')
#: Largest image side accepted from a header (ScanNet: 1296 colour, 640
#: depth); beyond it the header is corrupt.
MAX_IMAGE_SIDE = 16384


class SensReader:
    """Sequential reader of a ScanNet ``.sens`` v4 file.

    Args:
        path (str): The ``.sens`` file.

    Attributes:
        header (dict): ``sensor_name``, the four 4x4 matrices,
            ``color_compression``, ``depth_compression``, ``color_size``
            (w, h), ``depth_size`` (w, h), ``depth_shift``, ``num_frames``.
    """

    def __init__(self, path: str):
        if not osp.isfile(path):
            raise FileNotFoundError(f'.sens file {path} does not exist.')
        self.path = path
        self._file: Optional[BinaryIO] = None
        self._size = os.path.getsize(path)
        self.header: Dict = {}

    def _read(self, n: int, what: str) -> bytes:
        left = self._size - self._file.tell()
        if n > left:  # never allocate what the file cannot hold
            raise ValueError(f'{self.path} is truncated or corrupt: {what} '
                             f'declares {n} bytes, only {left} remain.')
        data = self._file.read(n)
        if len(data) != n:
            raise ValueError(f'{self.path} is truncated: expected {n} bytes '
                             f'for {what}, got {len(data)}.')
        return data

    def _unpack(self, fmt: str, what: str) -> Tuple:
        return struct.unpack(fmt, self._read(struct.calcsize(fmt), what))

    def _read_header(self) -> Dict:
        (version, ) = self._unpack('<I', 'version')
        if version != 4:
            raise ValueError(f'{self.path}: .sens version {version} is not '
                             'supported (expected 4); is it a .sens file?')
        (strlen, ) = self._unpack('<Q', 'sensor name length')
        if strlen > 1 << 16:
            raise ValueError(f'{self.path}: implausible header (sensor name '
                             f'of {strlen} bytes); the file is corrupt.')
        header = dict(sensor_name=self._read(strlen, 'sensor name').decode(
            'utf-8', errors='replace'))
        for name in MATRIX_NAMES:
            header[name] = np.array(
                self._unpack('<16f', name), np.float32).reshape(4, 4)
        color_comp, depth_comp = self._unpack('<ii', 'compression types')
        cw, ch, dw, dh = self._unpack('<4I', 'image sizes')
        for name, side in (('colour width', cw), ('colour height', ch),
                           ('depth width', dw), ('depth height', dh)):
            if not 0 < side <= MAX_IMAGE_SIDE:
                raise ValueError(
                    f'{self.path}: implausible header ({name} {side}, '
                    f'expected 1..{MAX_IMAGE_SIDE}); the file is corrupt.')
        (depth_shift, ) = self._unpack('<f', 'depth shift')
        (num_frames, ) = self._unpack('<Q', 'number of frames')
        header.update(
            color_compression=COLOR_COMPRESSION.get(color_comp, 'unknown'),
            depth_compression=DEPTH_COMPRESSION.get(depth_comp, 'unknown'),
            color_size=(cw, ch),
            depth_size=(dw, dh),
            depth_shift=depth_shift,
            num_frames=num_frames)
        if header['depth_compression'] not in ('raw_ushort', 'zlib_ushort'):
            raise ValueError(
                f'{self.path}: depth compression '
                f"{header['depth_compression']!r} is not supported "
                '(raw_ushort or zlib_ushort).')
        if header['color_compression'] not in ('raw', 'png', 'jpeg'):
            raise ValueError(
                f'{self.path}: colour compression '
                f"{header['color_compression']!r} is not supported.")
        return header

    def __enter__(self) -> 'SensReader':
        self._file = open(self.path, 'rb')
        self.header = self._read_header()
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()

    def frames(self, wanted=lambda i: True
               ) -> Iterator[Tuple[int, np.ndarray, bytes, bytes]]:
        """Yield ``(index, camera_to_world 4x4, colour bytes, depth bytes)``
        of the frames for which ``wanted(index)`` is true; the payloads of
        the others are skipped with ``seek``."""
        for i in range(self.header['num_frames']):
            what = f'frame {i}'
            pose = np.array(self._unpack('<16f', what), np.float32)
            _, _, color_n, depth_n = self._unpack('<4Q', what)
            left = self._size - self._file.tell()
            if color_n + depth_n > left:
                raise ValueError(
                    f'{self.path} is truncated or corrupt: frame {i} declares '
                    f'{color_n} + {depth_n} bytes, only {left} remain.')
            if not wanted(i):
                self._file.seek(color_n + depth_n, os.SEEK_CUR)
                continue
            color = self._read(color_n, f'{what} colour')
            depth = self._read(depth_n, f'{what} depth')
            yield i, pose.reshape(4, 4), color, depth

    def decode_color(self, data: bytes, index: int) -> np.ndarray:
        """Colour payload -> HxWx3 uint8 BGR."""
        cw, ch = self.header['color_size']
        if self.header['color_compression'] == 'raw':
            if len(data) != cw * ch * 3:
                raise ValueError(f'{self.path}: frame {index} raw colour has '
                                 f'{len(data)} bytes, expected {cw*ch*3}.')
            rgb = np.frombuffer(data, np.uint8).reshape(ch, cw, 3)
            return np.ascontiguousarray(rgb[..., ::-1])
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'{self.path}: cannot decode the colour image '
                             f'of frame {index}.')
        return img

    def decode_depth(self, data: bytes, index: int) -> np.ndarray:
        """Depth payload -> HxW uint16 (units of ``1 / depth_shift`` m)."""
        dw, dh = self.header['depth_size']
        if self.header['depth_compression'] == 'zlib_ushort':
            try:
                data = zlib.decompress(data)
            except zlib.error as e:
                raise ValueError(f'{self.path}: corrupt depth in frame '
                                 f'{index}: {e}') from e
        if len(data) != dw * dh * 2:
            raise ValueError(f'{self.path}: frame {index} depth has '
                             f'{len(data)} bytes, expected {dw * dh * 2}.')
        return np.frombuffer(data, '<u2').reshape(dh, dw)


def rescale_intrinsic(K: np.ndarray, src_size: Sequence[int],
                      dst_size: Sequence[int]) -> np.ndarray:
    """4x4 intrinsic matrix for an image resized from ``src_size`` (w, h) to
    ``dst_size`` (w, h) with ``cv2.resize`` (pixel centres preserved)."""
    K = K.astype(np.float64).copy()
    for row, (src, dst) in enumerate(zip(src_size, dst_size)):
        s = dst / src
        K[row, row] *= s
        K[row, 2] = (K[row, 2] + 0.5) * s - 0.5
    return K.astype(np.float32)


def export_sens(path: str,
                out_dir: str,
                frame_skip: int = 1,
                size: Optional[Sequence[int]] = None,
                jpeg_quality: int = 95,
                show_progress: bool = True) -> Dict[str, int]:
    """Export one ``.sens`` file to ``out_dir/<scene>/`` (module doc).

    Args:
        path (str): The ``.sens`` file; its stem names the scene.
        out_dir (str): Output root.
        frame_skip (int): Export frames ``0, k, 2k, ...``. Defaults to 1.
        size (Sequence[int], optional): Output (w, h); None = depth size.
        jpeg_quality (int): Colour JPEG quality. Defaults to 95.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``exported`` and ``invalid_pose`` frame counts.
    """
    if frame_skip < 1:
        raise ValueError(f'--frame-skip must be >= 1, got {frame_skip}')
    scene = osp.splitext(osp.basename(path))[0]
    final_root = osp.join(out_dir, scene)
    os.makedirs(out_dir, exist_ok=True)
    root = tempfile.mkdtemp(prefix=f'.{scene}.', suffix='.partial',
                            dir=out_dir)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(root, 0o777 & ~umask)  # mkdtemp's 0700 -> a normal folder
    try:
        counts = _export_into(path, root, frame_skip, size, jpeg_quality,
                              show_progress)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    # complete: replace an older export of the scene by this one
    if osp.isdir(final_root):
        shutil.rmtree(final_root)
    os.replace(root, final_root)
    return counts


def _export_into(path: str, root: str, frame_skip: int,
                 size: Optional[Sequence[int]], jpeg_quality: int,
                 show_progress: bool) -> Dict[str, int]:
    """Write the frames of one ``.sens`` file under ``root``."""
    dirs = {d: osp.join(root, d)
            for d in ('color', 'depth', 'pose', 'intrinsic')}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    counts = dict(exported=0, invalid_pose=0)
    with SensReader(path) as reader:
        h = reader.header
        out_size = tuple(size) if size else h['depth_size']
        shift = h['depth_shift']
        if not shift > 0:
            raise ValueError(f'{path}: invalid depth_shift {shift}.')
        intrinsics = dict(
            intrinsic_color=rescale_intrinsic(h['intrinsic_color'],
                                              h['color_size'], out_size),
            extrinsic_color=h['extrinsic_color'],
            intrinsic_depth=rescale_intrinsic(h['intrinsic_depth'],
                                              h['depth_size'], out_size),
            extrinsic_depth=h['extrinsic_depth'])
        for name, mat in intrinsics.items():
            np.savetxt(osp.join(dirs['intrinsic'], name + '.txt'), mat,
                       fmt='%.6f')
        num_wanted = len(range(0, h['num_frames'], frame_skip))
        bar = ProgressBar(num_wanted) if show_progress else None
        for i, pose, color_bytes, depth_bytes in reader.frames(
                lambda i: i % frame_skip == 0):
            if bar is not None:
                bar.update()
            if not np.isfinite(pose).all():
                counts['invalid_pose'] += 1
                continue
            color = reader.decode_color(color_bytes, i)
            depth = reader.decode_depth(depth_bytes, i)
            if (color.shape[1], color.shape[0]) != out_size:
                color = cv2.resize(color, out_size,
                                   interpolation=cv2.INTER_AREA)
            if (depth.shape[1], depth.shape[0]) != out_size:
                depth = cv2.resize(depth, out_size,
                                   interpolation=cv2.INTER_NEAREST)
            write_image_atomic(osp.join(dirs['color'], f'{i}.jpg'), color,
                               [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
            # millimetres, whatever the sensor unit (raw / shift metres)
            write_depth_png(osp.join(dirs['depth'], f'{i}.png'),
                            depth.astype(np.float64) / shift)
            np.savetxt(osp.join(dirs['pose'], f'{i}.txt'), pose, fmt='%.6f')
            counts['exported'] += 1
    if show_progress:
        print()
    return counts


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export ScanNet .sens files (v4) to color/depth/pose '
        'frames for depth-aware pretraining.')
    parser.add_argument('sens', nargs='+', help='.sens file(s)')
    parser.add_argument('--out', required=True, help='output root')
    parser.add_argument('--frame-skip', type=int, default=1,
                        help='export every k-th frame (default 1)')
    parser.add_argument('--size', type=int, nargs=2, metavar=('W', 'H'),
                        help='output size (default: the depth resolution)')
    parser.add_argument('--jpeg-quality', type=int, default=95)
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    """Command-line entry; returns the summed frame counts."""
    args = parse_args(argv)
    missing = [p for p in args.sens if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(f'.sens file(s) not found: {missing}')
    total = dict(exported=0, invalid_pose=0)
    for path in args.sens:
        print(f'{path}:')
        counts = export_sens(path, args.out, args.frame_skip, args.size,
                             args.jpeg_quality, not args.no_progress)
        print(f"  exported {counts['exported']} frames, skipped "
              f"{counts['invalid_pose']} with an invalid (-inf) pose")
        for k in total:
            total[k] += counts[k]
    print(f"done: {total['exported']} frames exported to {args.out}, "
          f"{total['invalid_pose']} skipped (invalid pose)")
    return total


if __name__ == '__main__':
    main()
