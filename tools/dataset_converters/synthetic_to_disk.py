"""Write synthetic RGB-D scenes to disk in the ``scannet_frames_25k`` layout.

    python tools/dataset_converters/synthetic_to_disk.py OUT_DIR \
        --num 1000 --size 128 160 --seed 0 [--difficulty 0.5] \
        [--frames-per-scene 1]

Layout (one folder per random scene; frames of a scene are nearby camera
poses of the same room, frame 0 is exactly ``render_scene(seed + k)``)::

    OUT_DIR/classes.txt                   "<id> <name>" per line
    OUT_DIR/scene%04d_00/color/%06d.jpg   BGR->JPEG (quality 95)
                        depth/%06d.png    uint16 millimetres, 0 = invalid
                        label/%06d.png    uint8 SYNTHETIC class ids (index
                                          into synthetic.CLASSES,
                                          255 = ignore); NOT NYU40 ids
                        instance/%06d.png uint8 surface ids
                        pose/%06d.txt     4x4 camera-to-world
                        intrinsics_color.txt, intrinsics_depth.txt  (4x4)

Colour and depth share the resolution and intrinsics.
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from projects.depth_pixpro.datasets.depth_io import write_depth_png
from projects.depth_pixpro.synthetic import CLASSES, render_scene_views
from projects.depth_pixpro.utils.atomic import write_image_atomic


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Render synthetic RGB-D scenes to a ScanNet-style '
        'folder (scannet_frames_25k layout).')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument(
        '--num', type=int, required=True, help='number of scenes')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=[480, 640],
        metavar=('H', 'W'),
        help='image height and width (default 480 640)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of scene 0')
    parser.add_argument(
        '--difficulty',
        type=float,
        default=0.5,
        help='0 = colours separate surfaces, 1 = only geometry does')
    parser.add_argument(
        '--frames-per-scene',
        type=int,
        default=1,
        help='nearby camera poses rendered per scene (default 1)')
    args = parser.parse_args(argv)
    if args.num < 1 or args.frames_per_scene < 1:
        parser.error('--num and --frames-per-scene must be >= 1')
    if min(args.size) < 1:
        parser.error('--size must be positive')
    return args


def _write_matrix(path: str, matrix: np.ndarray) -> None:
    np.savetxt(path, np.asarray(matrix, np.float64), fmt='%.9g')


def write_scene(out_dir: str, index: int, views: list) -> None:
    """Write the frames of one scene to ``out_dir/scene%04d_00``."""
    scene_dir = osp.join(out_dir, f'scene{index:04d}_00')
    for sub in ('color', 'depth', 'label', 'instance', 'pose'):
        os.makedirs(osp.join(scene_dir, sub), exist_ok=True)
    intrinsic = np.eye(4)
    intrinsic[:3, :3] = views[0]['K']
    for name in ('intrinsics_color.txt', 'intrinsics_depth.txt'):
        _write_matrix(osp.join(scene_dir, name), intrinsic)
    for f, view in enumerate(views):
        stem = f'{f:06d}'
        write_image_atomic(
            osp.join(scene_dir, 'color', stem + '.jpg'), view['img'],
            [cv2.IMWRITE_JPEG_QUALITY, 95])
        write_depth_png(
            osp.join(scene_dir, 'depth', stem + '.png'), view['depth'])
        write_image_atomic(
            osp.join(scene_dir, 'label', stem + '.png'), view['label'])
        write_image_atomic(
            osp.join(scene_dir, 'instance', stem + '.png'), view['instance'])
        _write_matrix(osp.join(scene_dir, 'pose', stem + '.txt'), view['pose'])


def main(argv=None) -> None:
    args = parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    with open(osp.join(args.out_dir, 'classes.txt'), 'w') as f:
        f.writelines(f'{i} {name}\n' for i, name in enumerate(CLASSES))
    progress = ProgressBar(args.num)
    for k in range(args.num):
        views = render_scene_views(
            args.seed + k,
            num_views=args.frames_per_scene,
            size=tuple(args.size),
            difficulty=args.difficulty)
        write_scene(args.out_dir, k, views)
        progress.update()
    print(f'\nwrote {args.num} scene(s) x {args.frames_per_scene} frame(s) '
          f'to {args.out_dir}')


if __name__ == '__main__':
    main()
