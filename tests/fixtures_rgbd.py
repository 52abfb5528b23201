"""Tiny RGB-D fixtures in the real on-disk layouts, shared by tests."""
import json

import cv2
import numpy as np

from projects.depth_pixpro.datasets.depth_io import write_depth_png


def write_scannet(root, num_frames=1):
    """ScanNet frames (25k layout): colour, 1.5 m depth, NYU40 label 1."""
    scene = root / 'scene0000_00'
    for sub in ('color', 'depth', 'pose', 'label'):
        (scene / sub).mkdir(parents=True)
    for i in range(num_frames):
        name = f'{i:06d}'
        cv2.imwrite(str(scene / 'color' / f'{name}.jpg'),
                    np.full((24, 32, 3), 80 + i, np.uint8))
        write_depth_png(str(scene / 'depth' / f'{name}.png'),
                        np.full((24, 32), 1.5))
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


def write_nyuv2_converted(root, num_frames=2):
    """The tools/dataset_converters/nyu_mat.py layout: rgb/, depth/ (mm),
    label40/ and label13/ (train ids, 255 = unlabeled), splits/."""
    for sub in ('rgb', 'depth', 'label40', 'label13', 'splits'):
        (root / sub).mkdir(parents=True)
    names = [f'{i + 1:04d}' for i in range(num_frames)]
    for i, name in enumerate(names):
        cv2.imwrite(str(root / 'rgb' / f'{name}.png'),
                    np.full((24, 32, 3), 60 + i, np.uint8))
        write_depth_png(str(root / 'depth' / f'{name}.png'),
                        np.full((24, 32), 2.0))
        for sub, label in (('label40', 3), ('label13', 5)):
            cv2.imwrite(str(root / sub / f'{name}.png'),
                        np.full((24, 32), label, np.uint8))
    for split in ('train', 'test'):
        (root / 'splits' / f'{split}.txt').write_text('\n'.join(names) + '\n')


def write_cityscapes_seg(root, num_frames=1):
    """mmseg's Cityscapes layout: leftImg8bit + gtFine labelTrainIds."""
    for split in ('train', 'val'):
        for folder in ('leftImg8bit', 'gtFine'):
            (root / folder / split / 'aachen').mkdir(parents=True)
        for i in range(num_frames):
            stem = root / '{}' / split / 'aachen' / f'aachen_000000_{i:06d}'
            cv2.imwrite(str(stem).format('leftImg8bit') + '_leftImg8bit.png',
                        np.full((32, 64, 3), 90, np.uint8))
            cv2.imwrite(
                str(stem).format('gtFine') + '_gtFine_labelTrainIds.png',
                np.full((32, 64), 7, np.uint8))
