"""Synthetic RGB-D scenes: determinism, geometry, difficulty, and the
dataset through its pipeline."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from mmpretrain.registry import DATASETS
from projects.depth_pixpro.synthetic import (
    BOX, CEILING, CLASSES, CONE, CYLINDER, FLOOR, SPHERE, WALL, render_scene,
    render_scene_views, render_view, sample_scene)

pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26

SIZE = (48, 64)


def back_project(view):
    """World points [H*W, 3] of every pixel from depth, K and pose."""
    h, w = view['depth'].shape
    v, u = np.mgrid[:h, :w]
    pix = np.stack([u.ravel(), v.ravel(), np.ones(h * w)]).astype(np.float64)
    cam = np.linalg.inv(view['K'].astype(np.float64)) @ pix
    cam *= view['depth'].ravel().astype(np.float64)
    pose = view['pose'].astype(np.float64)
    return (pose[:3, :3] @ cam + pose[:3, 3:]).T


def test_deterministic_by_seed():
    a, b = render_scene(3, SIZE), render_scene(3, SIZE)
    for key in ('img', 'depth', 'label', 'instance', 'K', 'pose'):
        np.testing.assert_array_equal(a[key], b[key])
    c = render_scene(4, SIZE)
    assert not np.array_equal(a['depth'], c['depth'])


def test_shapes_dtypes_and_depth_range():
    out = render_scene(0, SIZE)
    assert out['img'].shape == SIZE + (3, ) and out['img'].dtype == np.uint8
    assert out['depth'].shape == SIZE and out['depth'].dtype == np.float32
    assert out['label'].shape == SIZE and out['label'].dtype == np.uint8
    assert out['K'].shape == (3, 3) and out['K'].dtype == np.float32
    assert out['pose'].shape == (4, 4) and out['pose'].dtype == np.float32
    rot = out['pose'][:3, :3].astype(np.float64)
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-5)
    assert np.linalg.det(rot) == pytest.approx(1, abs=1e-5)
    for seed in range(5):
        depth = render_scene(seed, SIZE)['depth']
        assert np.isfinite(depth).all()
        # rooms are at most 8 x 8 x 3.2 m: z-depth within (0.05, 11.8)
        assert depth.min() > 0.05 and depth.max() < 11.8


def test_enough_classes_appear():
    seen = set()
    for seed in range(8):
        seen |= set(np.unique(render_scene(seed, SIZE)['label']).tolist())
    assert len(CLASSES) >= 6
    assert seen == set(range(len(CLASSES)))  # 255 never occurs


@pytest.mark.parametrize('seed', range(4))
def test_depth_label_geometry_consistency(seed):
    """Back-projected pixels lie on the surface their label/instance says:
    floor at z=0, ceiling at z=Lz, walls on the room sides, and each
    object's pixels on that object's analytic surface."""
    scene = sample_scene(seed, 0.5)
    view = render_view(scene, SIZE)
    np.testing.assert_array_equal(view['img'], render_scene(seed, SIZE)['img'])
    pts = back_project(view)
    label = view['label'].ravel()
    inst = view['instance'].ravel()
    lx, ly, lz = scene['room']
    tol = 2e-3 * view['depth'].max()
    assert (pts > -tol).all() and (pts < scene['room'] + tol).all()
    np.testing.assert_allclose(pts[label == FLOOR, 2], 0, atol=tol)
    np.testing.assert_allclose(pts[label == CEILING, 2], lz, atol=tol)
    wall = pts[label == WALL]
    side = np.minimum.reduce([
        np.abs(wall[:, 0]), np.abs(wall[:, 0] - lx), np.abs(wall[:, 1]),
        np.abs(wall[:, 1] - ly)
    ])
    assert (side < tol).all()
    cam = view['pose'][:3, 3].astype(np.float64)
    for index in np.unique(inst[inst >= 6]):
        obj = scene['surfaces'][index]
        p = pts[inst == index] - obj['centre']
        assert (label[inst == index] == obj['cls']).all()
        # convex objects seen from outside: only front faces are visible
        # (catches picking the far intersection), via outward normals
        normal = p.copy()
        if obj['cls'] == CONE:
            normal[:, 2] = (obj['radius'] / obj['height'])**2 * (
                obj['height'] - p[:, 2])
        elif obj['cls'] == CYLINDER:
            normal[:, 2] = np.where(p[:, 2] > obj['height'] - tol, 1e3, 0)
        if obj['cls'] != BOX:
            view_dir = pts[inst == index] - cam
            assert ((normal * view_dir).sum(1) < 1e-6).mean() > 0.97
        if obj['cls'] == SPHERE:
            np.testing.assert_allclose(
                np.linalg.norm(p, axis=1), obj['radius'], atol=tol)
        elif obj['cls'] == BOX:
            c, s = np.cos(obj['yaw']), np.sin(obj['yaw'])
            local = p.copy()
            local[:, 0] = c * p[:, 0] + s * p[:, 1]
            local[:, 1] = -s * p[:, 0] + c * p[:, 1]
            np.testing.assert_allclose(
                np.max(np.abs(local) / obj['half'], axis=1), 1,
                atol=tol / obj['half'].min())
        elif obj['cls'] == CYLINDER:
            radial = np.hypot(p[:, 0], p[:, 1])
            on_side = np.abs(radial - obj['radius']) < tol
            on_cap = (np.abs(p[:, 2] - obj['height']) < tol) & (
                radial <= obj['radius'] + tol)
            assert (on_side | on_cap).all()
        elif obj['cls'] == CONE:
            radial = np.hypot(p[:, 0], p[:, 1])
            expected = obj['radius'] * (1 - p[:, 2] / obj['height'])
            np.testing.assert_allclose(radial, expected, atol=2 * tol)
            assert (p[:, 2] > -tol).all()


def test_second_view_is_consistent():
    """A nearby view of the same scene: a world point seen in view 0 and
    projected into view 1 has the depth view 1 renders there (where it is
    visible in both and away from depth edges)."""
    v0, v1 = render_scene_views(5, num_views=2, size=SIZE)
    np.testing.assert_array_equal(v0['depth'], render_scene(5, SIZE)['depth'])
    np.testing.assert_array_equal(v0['K'], v1['K'])
    assert not np.allclose(v0['pose'], v1['pose'])
    pts = back_project(v0)
    pose1 = v1['pose'].astype(np.float64)
    cam1 = (pts - pose1[:3, 3]) @ pose1[:3, :3]  # world -> camera 1
    proj = cam1 @ v1['K'].astype(np.float64).T
    u = np.round(proj[:, 0] / proj[:, 2]).astype(int)
    v = np.round(proj[:, 1] / proj[:, 2]).astype(int)
    inside = (u >= 0) & (u < SIZE[1]) & (v >= 0) & (v < SIZE[0])
    assert inside.mean() > 0.5
    rendered = v1['depth'][v[inside], u[inside]]
    agree = np.abs(rendered - cam1[inside, 2]) < 0.05 * rendered
    assert agree.mean() > 0.85  # the rest: occlusions and depth edges


def _separation(difficulty, seeds=range(6)):
    """Mean over images of the spread (std) of per-surface mean colours,
    i.e. how much colour alone tells surfaces apart."""
    spreads = []
    for seed in seeds:
        out = render_scene(seed, SIZE, difficulty, noise_std=0)
        img = out['img'].reshape(-1, 3).astype(np.float64)
        inst = out['instance'].ravel()
        means = [img[inst == i].mean(0) for i in np.unique(inst)
                 if (inst == i).sum() >= 20]
        spreads.append(np.std(means, axis=0).mean())
    return float(np.mean(spreads))


def test_difficulty_reduces_colour_separation():
    easy, mid, hard = _separation(0.0), _separation(0.5), _separation(1.0)
    assert easy > mid > hard
    assert easy > 1.5 * hard
    # geometry does not depend on difficulty (paired comparison)
    np.testing.assert_array_equal(render_scene(1, SIZE, 0.0)['depth'],
                                  render_scene(1, SIZE, 1.0)['depth'])


def test_bad_arguments():
    with pytest.raises(ValueError, match='difficulty'):
        render_scene(0, SIZE, difficulty=1.5)
    with pytest.raises(ValueError, match='unknown render options'):
        render_scene(0, SIZE, colour='red')
    with pytest.raises(ValueError, match='difficulty'):
        DATASETS.build(dict(type='SyntheticRGBDDataset', num_samples=2,
                            difficulty=-1))


def test_dataset_items_and_pipeline():
    ds = DATASETS.build(
        dict(type='SyntheticRGBDDataset', num_samples=3, img_size=SIZE,
             seed=10, difficulty=0.3))
    assert len(ds) == 3 and ds.metainfo['classes'] == CLASSES
    item = ds[2]
    ref = render_scene(12, SIZE, 0.3)
    np.testing.assert_array_equal(item['img'], ref['img'])
    np.testing.assert_array_equal(item['depth'], ref['depth'])
    np.testing.assert_array_equal(item['gt_seg_map'], ref['label'])
    np.testing.assert_array_equal(item['K'], ref['K'])

    view = [dict(type='RGBDRandomResizedCrop', scale=32,
                 crop_ratio_range=(0.3, 1.)),
            dict(type='RGBDRandomFlip'),
            dict(type='RandomGrayscale', prob=0.2, keep_channels=True)]
    ds = DATASETS.build(
        dict(type='SyntheticRGBDDataset', num_samples=4, img_size=SIZE,
             pipeline=[dict(type='RGBDMultiView', num_views=[1, 1],
                            transforms=[view, view]),
                       dict(type='PackRGBDInputs')]))
    batch = default_collate([ds[i] for i in range(4)])
    assert len(batch['inputs']) == 2
    assert batch['inputs'][0].shape == (4, 3, 32, 32)
    assert batch['inputs'][0].dtype == torch.uint8
    for sample in batch['data_samples']:
        assert sample.coord.shape == (2, 4)
        assert sample.depth.shape == (2, 32, 32)
        assert sample.depth.dtype == torch.float32
        assert (sample.depth > 0).all()  # synthetic depth is always valid
        assert ((sample.coord >= 0) & (sample.coord <= 1)).all()


def test_cached_renders_equal_fresh_ones_and_survive_in_place_edits():
    ds = DATASETS.build(
        dict(type='SyntheticRGBDDataset', num_samples=2, img_size=SIZE,
             seed=5, difficulty=0.3, cache_renders=True))
    first = ds[1]
    assert list(ds._renders) == [6]  # rendered once, kept
    first['img'][:] = 0  # a transform writing in place
    first['depth'][:] = -1
    again = ds[1]
    ref = render_scene(6, SIZE, 0.3)
    np.testing.assert_array_equal(again['img'], ref['img'])
    np.testing.assert_array_equal(again['depth'], ref['depth'])
    fresh = DATASETS.build(dict(type='SyntheticRGBDDataset', num_samples=2,
                                img_size=SIZE, seed=5, difficulty=0.3))
    assert fresh[1]['img'].tobytes() == again['img'].tobytes()
    assert fresh._renders == {}  # no cache unless asked
