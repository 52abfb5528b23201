"""RGB-D pretraining datasets on fixtures written in the real layouts."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmpretrain.registry import DATASETS
from projects.depth_pixpro.datasets import (CityscapesRGBDDataset,
                                            NYUv2RGBDDataset,
                                            RGBDFolderDataset,
                                            ScanNetRGBDDataset)

pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadDepth')]


def _img(path, h, w, value):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), np.full((h, w, 3), value, np.uint8))


def _depth(path, h, w, mm):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), np.full((h, w), mm, np.uint16))


def _pose(path, finite=True):
    os.makedirs(osp.dirname(path), exist_ok=True)
    pose = np.eye(4) if finite else np.full((4, 4), -np.inf)
    np.savetxt(path, pose, fmt='%f')


def _scannet_export(root, scene, frames, bad_pose=(), no_depth=()):
    """reader.py layout: unpadded names, colour 24x32 vs depth 12x16."""
    for i in frames:
        _img(osp.join(root, scene, 'color', f'{i}.jpg'), 24, 32, 10 * i)
        if i not in no_depth:
            _depth(osp.join(root, scene, 'depth', f'{i}.png'), 12, 16,
                   1000 + i)
        _pose(osp.join(root, scene, 'pose', f'{i}.txt'), i not in bad_pose)


# ---------------------------------------------------------------- ScanNet
def test_scannet_export_layout(tmp_path):
    root = str(tmp_path)
    _scannet_export(root, 'scene0000_00', [0, 1, 2, 10], bad_pose=[1],
                    no_depth=[2])
    _scannet_export(root, 'scene0001_00', [0, 5])
    ds = ScanNetRGBDDataset(root, pipeline=PIPELINE)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [(d['scene'], d['frame_id']) for d in infos] == [
        ('scene0000_00', '0'), ('scene0000_00', '10'),
        ('scene0001_00', '0'), ('scene0001_00', '5')]
    assert ds.num_skipped == dict(no_depth=1, invalid_pose=1)
    out = ds[1]  # frame 10: depth 1010 mm; colour resized to depth size
    assert out['img'].shape == (12, 16, 3)
    assert out['depth'].shape == (12, 16)
    np.testing.assert_allclose(out['depth'], 1.010, rtol=1e-6)
    assert out['depth_kind'] == 'metric'


def test_scannet_split_file_scenes_and_step(tmp_path):
    root = str(tmp_path)
    for s in ('scene0000_00', 'scene0001_00', 'scene0002_00'):
        _scannet_export(root, s, range(12))
    (tmp_path / 'train.txt').write_text('scene0002_00\nscene0000_00\n\n')
    ds = ScanNetRGBDDataset(root, split_file='train.txt', frame_step=5)
    got = [(ds.get_data_info(i)['scene'], ds.get_data_info(i)['frame_id'])
           for i in range(len(ds))]
    # numeric frame order (0, 5, 10), not lexicographic (0, 2, 7)
    assert got == [('scene0002_00', f) for f in ('0', '5', '10')] + [
        ('scene0000_00', f) for f in ('0', '5', '10')]
    ds = ScanNetRGBDDataset(root, scenes=['scene0001_00'])
    assert len(ds) == 12
    # a single exported scene as data_root
    assert len(ScanNetRGBDDataset(osp.join(root, 'scene0001_00'))) == 12
    with pytest.raises(ValueError, match='frame_step'):
        ScanNetRGBDDataset(root, frame_step=0)


def test_scannet_frames_25k_layout(tmp_path):
    root = str(tmp_path)
    for k, i in enumerate([0, 100, 200]):
        _img(tmp_path / 'scene0000_00' / 'color' / f'{i:06d}.jpg', 12, 16, k)
        _depth(tmp_path / 'scene0000_00' / 'depth' / f'{i:06d}.png', 12, 16,
               500 * (k + 1))
        _pose(str(tmp_path / 'scene0000_00' / 'pose' / f'{i:06d}.txt'),
              finite=i != 100)
    ds = DATASETS.build(dict(type='ScanNetRGBDDataset', data_root=root,
                             pipeline=PIPELINE))
    assert [ds.get_data_info(i)['frame_id'] for i in range(len(ds))] == [
        '000000', '000200']
    np.testing.assert_allclose(ds[1]['depth'], 1.5)


# ---------------------------------------------------------------- Cityscapes
def test_cityscapes_layout(tmp_path):
    root = tmp_path
    stems = ['aachen_000000_000019', 'aachen_000001_000019']
    for k, stem in enumerate(stems):
        _img(root / 'leftImg8bit/train/aachen' / f'{stem}_leftImg8bit.png',
             8, 16, k)
        _depth(root / 'disparity/train/aachen' / f'{stem}_disparity.png', 8,
               16, 1 + 256 * 10 * (k + 1))  # d = 10, 20 px
        (root / 'camera/train/aachen').mkdir(parents=True, exist_ok=True)
        (root / 'camera/train/aachen' / f'{stem}_camera.json').write_text(
            json.dumps(dict(extrinsic=dict(baseline=0.2),
                            intrinsic=dict(fx=2000.0))))
    # an image without disparity is skipped
    _img(root / 'leftImg8bit/train/bonn/bonn_000000_000019_leftImg8bit.png',
         8, 16, 0)
    ds = CityscapesRGBDDataset(str(root), split='train', pipeline=PIPELINE)
    assert len(ds) == 2
    np.testing.assert_allclose(ds[0]['depth'], 0.2 * 2000 / 10, rtol=1e-6)
    np.testing.assert_allclose(ds[1]['depth'], 0.2 * 2000 / 20, rtol=1e-6)
    assert ds[0]['img'].shape == (8, 16, 3)
    # 40 m > max_depth: invalid
    ds = CityscapesRGBDDataset(str(root), max_depth=30., pipeline=PIPELINE)
    assert not ds[0]['depth'].any() and ds[1]['depth'].all()
    with pytest.raises(ValueError, match='no RGB-D frames'):
        CityscapesRGBDDataset(str(root), split='val')


# ---------------------------------------------------------------- NYUv2
def test_nyuv2_mini_real_frames(nyuv2_mini):
    ds = NYUv2RGBDDataset(nyuv2_mini, pipeline=PIPELINE)
    assert len(ds) == 8
    assert [ds.get_data_info(i)['frame_id'] for i in range(8)] == [
        '0001', '0002', '0009', '0014', '0015', '0016', '0017', '0018']
    lo, hi = np.inf, 0
    for i in range(len(ds)):
        out = ds[i]
        assert out['img'].shape == (480, 640, 3)
        assert out['depth'].shape == (480, 640)
        assert out['depth'].dtype == np.float32
        lo, hi = min(lo, out['depth'].min()), max(hi, out['depth'].max())
    assert 0.89 <= lo < 1.0 and 9.9 < hi <= 9.97  # README: 894..9961 mm
    ds = NYUv2RGBDDataset(nyuv2_mini, include_unlabeled=True)
    assert len(ds) == 18
    assert sum(not ds.get_data_info(i)['labeled'] for i in range(18)) == 10


def test_nyuv2_converter_layout_with_splits(tmp_path):
    for k in range(1, 5):
        _img(tmp_path / 'rgb' / f'{k:04d}.png', 6, 8, k)
        _depth(tmp_path / 'depth' / f'{k:04d}.png', 6, 8, 1000 * k)
    (tmp_path / 'splits').mkdir()
    (tmp_path / 'splits' / 'train.txt').write_text('0002\n0004\n')
    ds = NYUv2RGBDDataset(str(tmp_path), split='train', pipeline=PIPELINE)
    assert len(ds) == 2
    np.testing.assert_allclose(ds[1]['depth'], 4.0)
    with pytest.raises(FileNotFoundError, match='test.txt'):
        NYUv2RGBDDataset(str(tmp_path), split='test')


# ---------------------------------------------------------------- folders
def test_folder_dataset_pairs_by_name(tmp_path):
    _img(tmp_path / 'images' / 'a' / 'x.jpg', 4, 6, 1)
    _img(tmp_path / 'images' / 'y.jpg', 4, 6, 2)
    _img(tmp_path / 'images' / 'lonely.jpg', 4, 6, 3)
    os.makedirs(tmp_path / 'mono' / 'a')
    np.save(tmp_path / 'mono' / 'a' / 'x.npy', np.full((4, 6), 0.25))
    np.save(tmp_path / 'mono' / 'y.npy', np.full((4, 6), 0.5))
    ds = RGBDFolderDataset(
        str(tmp_path), img_dir='images', depth_dir='mono',
        img_suffix='.jpg', depth_suffix='.npy', depth_kind='inverse',
        pipeline=PIPELINE)
    assert len(ds) == 2
    out = ds[0]
    assert out['img_path'].endswith(osp.join('a', 'x.jpg'))
    np.testing.assert_allclose(out['depth'], 0.25)
    assert out['depth_kind'] == 'inverse'


def test_folder_dataset_list_file(tmp_path):
    _img(tmp_path / 'rgb' / '1.png', 4, 6, 1)
    _depth(tmp_path / 'd' / '1.png', 4, 6, 2500)
    (tmp_path / 'list.txt').write_text(
        'rgb/1.png d/1.png lab/1.png\n\nrgb/1.png d/1.png\n')
    ds = RGBDFolderDataset(str(tmp_path), ann_file='list.txt',
                           depth_scale=500., depth_kind='metric',
                           pipeline=PIPELINE)
    assert len(ds) == 2
    assert ds.get_data_info(0)['seg_map_path'] == osp.join(
        str(tmp_path), 'lab/1.png')
    np.testing.assert_allclose(ds[1]['depth'], 5.0)
    (tmp_path / 'bad.txt').write_text('only_one_field.png\n')
    with pytest.raises(ValueError, match='bad.txt:1'):
        RGBDFolderDataset(str(tmp_path), ann_file='bad.txt',
                          depth_kind='metric')


# ---------------------------------------------------------------- failures
@pytest.mark.parametrize('cls,hint', [
    (ScanNetRGBDDataset, 'scannet_sens.py'),
    (CityscapesRGBDDataset, 'disparity_trainvaltest'),
    (NYUv2RGBDDataset, 'nyu_mat.py'),
    (RGBDFolderDataset, 'Datasets'),
])
def test_missing_root_says_how_to_prepare(tmp_path, cls, hint):
    with pytest.raises(FileNotFoundError, match=hint) as e:
        cls(str(tmp_path / 'nowhere'), lazy_init=True)
    assert 'nowhere' in str(e.value) and 'Datasets' in str(e.value)


@pytest.mark.parametrize('cls', [
    ScanNetRGBDDataset, CityscapesRGBDDataset, NYUv2RGBDDataset,
    RGBDFolderDataset
])
def test_empty_dataset_error(tmp_path, cls):
    with pytest.raises(ValueError, match='no RGB-D frames') as e:
        cls(str(tmp_path), depth_kind='metric')
    assert str(tmp_path) in str(e.value)


def test_missing_depth_file_in_list_raises_at_load(tmp_path):
    _img(tmp_path / 'rgb' / '1.png', 4, 6, 1)
    (tmp_path / 'list.txt').write_text('rgb/1.png d/missing.png\n')
    ds = RGBDFolderDataset(str(tmp_path), ann_file='list.txt',
                           depth_kind='metric', pipeline=PIPELINE,
                           test_mode=True)
    with pytest.raises(FileNotFoundError, match='missing.png'):
        ds[0]


# ------------------------------------------------------------ new names
def test_items_carry_depth_map_path(tmp_path):
    _scannet_export(str(tmp_path), 'scene0000_00', [0])
    info = ScanNetRGBDDataset(str(tmp_path)).get_data_info(0)
    assert info['depth_map_path'].endswith(osp.join('depth', '0.png'))
    assert 'depth_path' not in info


def test_scannet_resize_img_to_depth(tmp_path):
    _scannet_export(str(tmp_path), 'scene0000_00', [0])
    off = ScanNetRGBDDataset(str(tmp_path), resize_img_to_depth=False)
    assert off.get_data_info(0)['resize_img_to_depth'] is False
    on = ScanNetRGBDDataset(str(tmp_path))
    assert on.get_data_info(0)['resize_img_to_depth'] is True


def test_depth_info_kind_is_read_and_checked(tmp_path):
    _img(tmp_path / 'rgb' / 'a.png', 4, 4, 50)
    _depth(tmp_path / 'depth' / 'a.png', 4, 4, 100)
    info = tmp_path / 'depth' / 'depth_info.json'
    info.write_text(json.dumps(dict(depth_kind='scale_free',
                                    depth_scale=65535.)))
    ds = RGBDFolderDataset(str(tmp_path))
    assert ds.get_data_info(0)['depth_kind'] == 'scale_free'
    info.write_text(json.dumps(dict(depth_kind='relative')))
    with pytest.raises(ValueError, match='depth_info.json: depth_kind must '
                       'be one of'):
        RGBDFolderDataset(str(tmp_path))
    with pytest.raises(ValueError, match='depth_kind must be one of'):
        RGBDFolderDataset(str(tmp_path), depth_kind='disparity')


# ------------------------------------------------ hostile file systems
def _folder_pairs(root, names):
    for i, name in enumerate(names):
        _img(osp.join(root, 'rgb', name + '.png'), 4, 4, 10 * i)
        _depth(osp.join(root, 'depth', name + '.png'), 4, 4, 1000 + i)


def test_symlink_loops_list_each_frame_once(tmp_path):
    _folder_pairs(str(tmp_path), ['a', 'b'])
    os.symlink('.', tmp_path / 'rgb' / 'self')  # self-loop
    os.symlink('..', tmp_path / 'rgb' / 'up')  # loop through the parent
    os.symlink('..', tmp_path / 'depth' / 'up')
    ds = RGBDFolderDataset(str(tmp_path), depth_kind='metric')
    assert [osp.basename(ds.get_data_info(i)['img_path'])
            for i in range(len(ds))] == ['a.png', 'b.png']
    assert ds.get_data_info(0)['img_path'] == str(tmp_path / 'rgb' / 'a.png')


def test_unreadable_depth_folder_says_permission(tmp_path, monkeypatch):
    _folder_pairs(str(tmp_path), ['a'])
    depth_dir = str(tmp_path / 'depth')
    real_scandir = os.scandir

    def scandir(path='.'):  # as for a folder without read permission
        if osp.realpath(path) == osp.realpath(depth_dir):
            raise PermissionError(13, 'Permission denied', path)
        return real_scandir(path)

    monkeypatch.setattr(os, 'scandir', scandir)
    with pytest.raises(PermissionError, match=r'depth.*permission denied'):
        RGBDFolderDataset(str(tmp_path), depth_kind='metric')
    with pytest.raises(PermissionError, match='permission denied'):
        NYUv2RGBDDataset(str(tmp_path))


def test_list_file_paths_with_spaces(tmp_path):
    _img(tmp_path / 'my rgb' / 'a b.png', 4, 4, 10)
    _depth(tmp_path / 'depth' / 'a b.png', 4, 4, 1234)
    _img(tmp_path / 'my rgb' / 'c.png', 4, 4, 20)
    _depth(tmp_path / 'depth' / 'c.png', 4, 4, 1500)
    (tmp_path / 'list.txt').write_text(
        '"my rgb/a b.png" "depth/a b.png"\n'  # quoted
        'my rgb/c.png\tdepth/c.png\n'  # tab-separated
        'my rgb/a b.png depth/a b.png\n')  # unquoted: the split that exists
    ds = RGBDFolderDataset(str(tmp_path), ann_file='list.txt',
                           depth_kind='metric', pipeline=PIPELINE)
    assert len(ds) == 3
    assert ds.get_data_info(0)['depth_map_path'] == str(
        tmp_path / 'depth' / 'a b.png')
    assert ds.get_data_info(2) == ds.get_data_info(0) | dict(sample_idx=2)
    np.testing.assert_allclose(ds[1]['depth'], 1.5)
    (tmp_path / 'bad.txt').write_text('my rgb/x y.png depth/x y.png\n')
    with pytest.raises(ValueError, match=r'bad\.txt:1.*[Qq]uote'):
        RGBDFolderDataset(str(tmp_path), ann_file='bad.txt',
                          depth_kind='metric')


def test_depth_scale_and_kind_checked_at_build(tmp_path):
    _scannet_export(str(tmp_path), 'scene0000_00', [0])
    for bad in (0, -1.):
        with pytest.raises(ValueError, match='depth_scale'):
            ScanNetRGBDDataset(str(tmp_path), depth_scale=bad)
        with pytest.raises(ValueError, match='depth_scale'):
            RGBDFolderDataset(str(tmp_path), depth_scale=bad,
                              depth_kind='metric')
    with pytest.raises(ValueError, match="'metric'"):
        CityscapesRGBDDataset(str(tmp_path), depth_kind='inverse')


def test_scannet_distorting_colour_resize_warns(tmp_path):
    from projects.depth_pixpro.datasets.transforms.depth_loading import \
        DepthSizeMismatchWarning
    root = tmp_path / 'scene0000_00'
    _img(root / 'color' / '0.jpg', 48, 64, 50)  # 64x48 colour
    _depth(root / 'depth' / '0.png', 64, 64, 1500)  # 64x64 depth
    ds = ScanNetRGBDDataset(str(tmp_path), pipeline=PIPELINE)
    with pytest.warns(DepthSizeMismatchWarning, match='aspect'):
        assert ds[0]['img'].shape == (64, 64, 3)


def test_scannet_skips_hidden_unfinished_scenes(tmp_path):
    _scannet_export(str(tmp_path), 'scene0000_00', [0])
    _scannet_export(str(tmp_path), '.scene0001_00.x.partial', [0])
    ds = ScanNetRGBDDataset(str(tmp_path))
    assert [ds.get_data_info(i)['scene'] for i in range(len(ds))] == [
        'scene0000_00']
