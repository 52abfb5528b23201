"""Tiny RGB-D fixtures in the real on-disk layouts, shared by tests."""
import json

import cv2
import numpy as np


def write_scannet(root, num_frames=1):
    """ScanNet frames (25k layout): colour, 1.5 m depth, NYU40 label 1."""
    scene = root / 'scene0000_00'
    for sub in ('color', 'depth', 'pose', 'label'):
        (scene / sub).mkdir(parents=True)
    for i in range(num_frames):
        name = f'{i:06d}'
        cv2.imwrite(str(scene / 'color' / f'{name}.jpg'),
                    np.full((24, 32, 3), 80 + i, np.uint8))
        cv2.imwrite(str(scene / 'depth' / f'{name}.png'),
                    np.full((24, 32), 1500, np.uint16))
        cv2.imwrite(str(scene / 'label' / f'{name}.png'),
                    np.full((24, 32), 1, np.uint8))
        np.savetxt(scene / 'pose' / f'{name}.txt', np.eye(4))
    (root / 'scannetv2_train.txt').write_text('scene0000_00\n')


def write_cityscapes(root, num_frames=1):
    """Cityscapes frames: image, disparity 5000 (about 20.5 m), camera."""
    city = 'aachen'
    for folder in ('leftImg8bit', 'disparity', 'camera'):
        (root / folder / 'train' / city).mkdir(parents=True)
    for i in range(num_frames):
        stem = f'{city}_000000_{i:06d}'
        cv2.imwrite(
            str(root / 'leftImg8bit' / 'train' / city /
                f'{stem}_leftImg8bit.png'), np.zeros((16, 32, 3), np.uint8))
        cv2.imwrite(
            str(root / 'disparity' / 'train' / city /
                f'{stem}_disparity.png'), np.full((16, 32), 5000, np.uint16))
        camera = dict(extrinsic=dict(baseline=0.2), intrinsic=dict(fx=2000.))
        (root / 'camera' / 'train' / city / f'{stem}_camera.json').write_text(
            json.dumps(camera))
