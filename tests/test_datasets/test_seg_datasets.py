"""Segmentation datasets (mmseg registry): ScanNet 2D, NYUv2 (40 and 13
classes, real frames) and the synthetic rooms."""
import os
import os.path as osp

import mmcv
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from projects.depth_pixpro.datasets import segmentation as sd


pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def build(**cfg):
    cfg.setdefault('pipeline', PIPELINE)
    return DATASETS.build(cfg)


def test_scannet20_lut_brute_force():
    lut = sd.scannet20_lut()
    assert lut.shape == (256, ) and lut.dtype == np.uint8
    for value in range(256):
        expected = (sd.SCANNET20_NYU40_IDS.index(value)
                    if value in sd.SCANNET20_NYU40_IDS else 255)
        assert lut[value] == expected, value
    assert sd.SCANNET20_CLASSES[13] == 'curtain'  # NYU40 id 16
    assert sd.SCANNET20_CLASSES[-1] == 'otherfurniture'
    assert len(sd.SCANNET20_PALETTE) == 20


def write_scannet(root, scenes=('scene0000_00', 'scene0001_00'), frames=2):
    rng = np.random.default_rng(0)
    labels = {}
    for scene in scenes:
        for i in range(frames):
            stem = f'{i * 100:06d}'
            img = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
            label = rng.integers(0, 41, (24, 32)).astype(np.uint8)
            label[0, :5] = [200, 255, 13, 40, 39]  # out of NYU40 / non-benchmark
            mmcv.imwrite(img, osp.join(root, scene, 'color', stem + '.jpg'))
            mmcv.imwrite(label, osp.join(root, scene, 'label', stem + '.png'))
            labels[(scene, stem)] = label
    # A frame without label: skipped.
    mmcv.imwrite(img, osp.join(root, scenes[0], 'color', '009999.jpg'))
    with open(osp.join(root, 'scannetv2_val.txt'), 'w') as f:
        f.write(scenes[-1] + '\n')
    return labels


def test_scannet2d_dataset(tmp_path):
    labels = write_scannet(str(tmp_path))
    lut = sd.scannet20_lut()
    every = build(type='ScanNet2DSegDataset', data_root=str(tmp_path))
    assert len(every) == 4
    assert every.metainfo['classes'] == sd.SCANNET20_CLASSES
    val = build(
        type='ScanNet2DSegDataset', data_root=str(tmp_path),
        ann_file='scannetv2_val.txt')
    assert len(val) == 2
    for idx in range(len(val)):
        item = val[idx]
        scene = val.get_data_info(idx)['scene']
        stem = osp.basename(item['img_path'])[:-4]
        raw = labels[(scene, stem)]
        expected = np.array([[lut[v] for v in row] for row in raw])
        np.testing.assert_array_equal(item['gt_seg_map'], expected)
        assert item['gt_seg_map'][0, :5].tolist() == [255, 255, 255, 255, 19]
        assert item['img'].shape == (24, 32, 3)


def test_scannet2d_class_subset_and_errors(tmp_path):
    labels = write_scannet(str(tmp_path), scenes=('scene0002_00', ), frames=1)
    subset = build(
        type='ScanNet2DSegDataset', data_root=str(tmp_path),
        metainfo=dict(classes=('floor', 'wall')))
    raw = labels[('scene0002_00', '000000')]
    expected = np.full(raw.shape, 255)
    expected[raw == 1] = 1  # NYU40 wall -> new id 1
    expected[raw == 2] = 0  # NYU40 floor -> new id 0
    np.testing.assert_array_equal(subset[0]['gt_seg_map'], expected)
    with pytest.raises(FileNotFoundError, match='split file'):
        build(type='ScanNet2DSegDataset', data_root=str(tmp_path),
              ann_file='missing.txt')
    with pytest.raises(FileNotFoundError, match='ScanNet frames folder'):
        build(type='ScanNet2DSegDataset', data_root=str(tmp_path / 'nope'))


def write_nyuv2(root, ids=('0001', '0002', '0003')):
    rng = np.random.default_rng(1)
    out = {}
    for frame in ids:
        mmcv.imwrite(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8),
                     osp.join(root, 'rgb', frame + '.png'))
        mmcv.imwrite(rng.integers(500, 5000, (24, 32)).astype(np.uint16),
                     osp.join(root, 'depth', frame + '.png'))
        for k in (13, 40):
            label = rng.integers(0, k, (24, 32)).astype(np.uint8)
            label[0, 0] = 255
            mmcv.imwrite(label, osp.join(root, f'label{k}', frame + '.png'))
            out[(k, frame)] = label
    os.makedirs(osp.join(root, 'splits'))
    with open(osp.join(root, 'splits', 'train.txt'), 'w') as f:
        f.write('0001\n0003\n')
    with open(osp.join(root, 'splits', 'test.txt'), 'w') as f:
        f.write('0002\n')
    return out


def test_nyuv2_full_layout(tmp_path):
    labels = write_nyuv2(str(tmp_path))
    train40 = build(type='NYUv2SegDataset', data_root=str(tmp_path))
    assert len(train40) == 2 and len(train40.metainfo['classes']) == 40
    item = train40[1]
    assert item['img_path'].endswith(osp.join('rgb', '0003.png'))
    np.testing.assert_array_equal(item['gt_seg_map'], labels[(40, '0003')])
    assert train40.get_data_info(1)['depth_map_path'].endswith(
        osp.join('depth', '0003.png'))
    test13 = build(
        type='NYUv2Seg13Dataset', data_root=str(tmp_path), split='test')
    assert len(test13) == 1
    np.testing.assert_array_equal(test13[0]['gt_seg_map'],
                                  labels[(13, '0002')])
    # Upstream encoding (0 = unlabelled, 1..K): reduce_zero_label.
    upstream = build(
        type='NYUv2SegDataset', data_root=str(tmp_path), split='test',
        reduce_zero_label=True,
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')])
    raw = labels[(40, '0002')].astype(np.int64)
    expected = np.where((raw == 0) | (raw == 255), 255, raw - 1)
    np.testing.assert_array_equal(upstream[0]['gt_seg_map'], expected)


def test_nyuv2_mini(nyuv2_mini):
    mini = build(type='NYUv2Seg13Dataset', data_root=nyuv2_mini, split=None)
    assert len(mini) == 8
    assert mini.metainfo['classes'] == sd.NYU13_CLASSES
    item = mini[0]
    raw = mmcv.imread(osp.join(nyuv2_mini, 'label', '0001.png'), 'unchanged')
    np.testing.assert_array_equal(item['gt_seg_map'], raw)
    assert item['img'].shape == (480, 640, 3)
    values = set(np.unique(item['gt_seg_map']).tolist())
    assert values <= set(range(13)) | {255} and 255 in values
    with pytest.raises(FileNotFoundError, match='split file'):
        build(type='NYUv2Seg13Dataset', data_root=nyuv2_mini, split='train')
    with pytest.raises(FileNotFoundError, match='label40'):
        build(type='NYUv2SegDataset', data_root=nyuv2_mini, split=None)


def test_synthetic_seg_dataset(tmp_path):
    from projects.depth_pixpro.synthetic import CLASSES, render_scene
    cfg = dict(type='SyntheticSceneSegDataset', num_images=3, first_seed=5,
               size=(32, 40), difficulty=0.3, cache_dir=str(tmp_path))
    ds = build(**cfg)
    assert len(ds) == 3 and ds.metainfo['classes'] == tuple(CLASSES)
    for idx in range(3):
        seed = sd.SEG_SEED_OFFSET + 5 + idx
        assert ds.get_data_info(idx)['seed'] == seed
        ref = render_scene(seed, size=(32, 40), difficulty=0.3)
        item = ds[idx]
        np.testing.assert_array_equal(item['gt_seg_map'], ref['label'])
        np.testing.assert_array_equal(item['img'], ref['img'])
        depth = mmcv.imread(ds.get_data_info(idx)['depth_map_path'],
                            'unchanged')
        np.testing.assert_allclose(depth / 1000.0, ref['depth'], atol=6e-4)
    # Rebuilding reuses the cache (files are not rewritten).
    path = ds.get_data_info(0)['seg_map_path']
    stamp = os.stat(path).st_mtime_ns
    assert build(**cfg).get_data_info(0)['seg_map_path'] == path
    assert os.stat(path).st_mtime_ns == stamp
    # Seeds never reach the pretraining range.
    assert sd.SEG_SEED_OFFSET >= 10_000_000
