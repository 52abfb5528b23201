"""Dataset converters on tiny files written in the real on-disk formats:
ScanNet ``.sens`` v4, NYUv2's MATLAB v7.3 (HDF5) ``.mat``, and the synthetic
rooms written in the ScanNet layout."""
import os
import os.path as osp
import struct
import zlib

import cv2
import h5py
import numpy as np
import pytest
import scipy.io

from helpers import load_script
from projects.depth_pixpro.datasets import NYUv2RGBDDataset, ScanNetRGBDDataset
from projects.depth_pixpro.datasets.segmentation.label_tables import (
    NYU40_TO_13, nyu40_to_13_lut)
from projects.depth_pixpro.synthetic import (
    CLASSES, render_scene_views)


PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadDepth')]


scannet_sens = load_script('tools/dataset_converters/scannet_sens.py',
                           '_tool_scannet_sens')


nyu_mat = load_script('tools/dataset_converters/nyu_mat.py', '_tool_nyu_mat')


# ------------------------------------------------------------------ .sens
CW, CH, DW, DH = 48, 36, 16, 12  # colour is 3x the depth resolution


K_COLOR = np.array([[60., 0, 23.5, 0], [0, 60., 17.5, 0], [0, 0, 1, 0],
                    [0, 0, 0, 1]], np.float32)


K_DEPTH = np.array([[20., 0, 7.5, 0], [0, 20., 5.5, 0], [0, 0, 1, 0],
                    [0, 0, 0, 1]], np.float32)


BGR = [(200, 40, 10), (10, 200, 40), (40, 10, 200)]


def _depth_mm(k):
    """Asymmetric pattern: distinct value per pixel, per frame."""
    return (1000 + 10 * np.arange(DH * DW).reshape(DH, DW) + 7 * k).astype(
        np.uint16)


def _pose(k):
    pose = np.eye(4, dtype=np.float32)
    pose[:3, 3] = (k, 2 * k, 0.5)
    return pose


def write_sens(path, num_frames=3, bad_pose=(1, ), version=4,
               sizes=(CW, CH, DW, DH), colour_bytes=None):
    """A v4 .sens (data-formats.md 1a): jpeg colour, zlib_ushort depth;
    ``sizes`` / ``colour_bytes`` override the header sizes / the colour
    byte count that frame 0 declares (hostile files)."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<I', version))
        name = b'StructureSensor'
        f.write(struct.pack('<Q', len(name)) + name)
        for m in (K_COLOR, np.eye(4), K_DEPTH, np.eye(4)):
            f.write(np.asarray(m, '<f4').tobytes())
        f.write(struct.pack('<ii', 2, 1))
        f.write(struct.pack('<4I', *sizes))
        f.write(struct.pack('<f', 1000.0))
        f.write(struct.pack('<Q', num_frames))
        for k in range(num_frames):
            pose = _pose(k)
            if k in bad_pose:
                pose[:] = -np.inf
            color = np.full((CH, CW, 3), BGR[k % 3], np.uint8)
            ok, jpg = cv2.imencode('.jpg', color)
            assert ok
            depth = zlib.compress(_depth_mm(k).astype('<u2').tobytes())
            f.write(pose.astype('<f4').tobytes())
            declared = len(jpg) if colour_bytes is None or k else \
                colour_bytes
            f.write(struct.pack('<4Q', 111 * k, 222 * k, declared,
                                len(depth)))
            f.write(jpg.tobytes() + depth)
        f.write(struct.pack('<Q', 0))  # C++ writer: num_imu_frames tail


def test_sens_to_scannet_dataset(tmp_path):
    sens = str(tmp_path / 'scene0007_00.sens')
    write_sens(sens)
    out = str(tmp_path / 'frames')
    counts = scannet_sens.main([sens, '--out', out, '--no-progress'])
    assert counts == dict(exported=2, invalid_pose=1)
    scene = osp.join(out, 'scene0007_00')
    assert sorted(os.listdir(osp.join(scene, 'depth'))) == [
        '0.png', '2.png']
    np.testing.assert_allclose(np.loadtxt(osp.join(scene, 'pose', '2.txt')),
                               _pose(2), atol=1e-6)
    # colour intrinsics rescaled by 1/3 (pixel centres), depth unchanged
    kc = np.loadtxt(osp.join(scene, 'intrinsic', 'intrinsic_color.txt'))
    np.testing.assert_allclose(kc[0, 0], 20., rtol=1e-6)
    np.testing.assert_allclose(kc[:2, 2], [(23.5 + .5) / 3 - .5,
                                           (17.5 + .5) / 3 - .5], rtol=1e-6)
    np.testing.assert_allclose(
        np.loadtxt(osp.join(scene, 'intrinsic', 'intrinsic_depth.txt')),
        K_DEPTH, rtol=1e-6)

    ds = ScanNetRGBDDataset(out, pipeline=PIPELINE)
    assert [ds.get_data_info(i)['frame_id'] for i in range(len(ds))] == [
        '0', '2']
    for i, k in enumerate([0, 2]):
        res = ds[i]
        assert res['img'].shape == (DH, DW, 3)
        np.testing.assert_allclose(res['depth'], _depth_mm(k) / 1000.,
                                   rtol=1e-6)
        mean_bgr = res['img'].reshape(-1, 3).mean(0)
        assert np.abs(mean_bgr - BGR[k]).max() < 8  # jpeg round trip


def test_sens_frame_skip_and_size(tmp_path):
    sens = str(tmp_path / 's.sens')
    write_sens(sens, num_frames=5, bad_pose=())
    out = str(tmp_path / 'o')
    counts = scannet_sens.main([sens, '--out', out, '--frame-skip', '2',
                                '--size', str(2 * DW), str(2 * DH),
                                '--no-progress'])
    assert counts == dict(exported=3, invalid_pose=0)
    depth = cv2.imread(osp.join(out, 's', 'depth', '4.png'),
                       cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16
    # nearest upsampling by 2: every value is a 2x2 block, nothing blended
    np.testing.assert_array_equal(depth, np.kron(_depth_mm(4),
                                                 np.ones((2, 2))))
    color = cv2.imread(osp.join(out, 's', 'color', '4.jpg'))
    assert color.shape == (2 * DH, 2 * DW, 3)


def test_sens_bad_files(tmp_path):
    bad = str(tmp_path / 'v3.sens')
    write_sens(bad, version=3)
    with pytest.raises(ValueError, match='v3.sens.*version 3'):
        scannet_sens.main([bad, '--out', str(tmp_path), '--no-progress'])
    good = str(tmp_path / 'trunc.sens')
    write_sens(good, bad_pose=())
    data = open(good, 'rb').read()
    open(good, 'wb').write(data[:len(data) - 60])
    with pytest.raises(ValueError, match='trunc.sens is truncated'):
        scannet_sens.main([good, '--out', str(tmp_path), '--no-progress'])
    with pytest.raises(FileNotFoundError, match='nothere.sens'):
        scannet_sens.main([str(tmp_path / 'nothere.sens'), '--out',
                           str(tmp_path)])


# ------------------------------------------------------------------ NYU .mat
N, H, W = 3, 6, 8


def _rgb(n):
    y, x = np.mgrid[:H, :W]
    return np.stack([10 * x + n, 20 * y + 1, 5 * x + 7 * y + 2 * n],
                    -1).astype(np.uint8)  # asymmetric in x and y


def _depth_m(n):
    return (0.5 + 0.125 * np.arange(H * W).reshape(H, W) + n).astype(
        np.float32)


def write_labeled_mat(path, labels):
    """MATLAB v7.3 layout as h5py sees it: arrays transposed."""
    with h5py.File(path, 'w', userblock_size=512) as f:
        f['images'] = np.stack([_rgb(n).transpose(2, 1, 0)
                                for n in range(N)])        # (N, 3, W, H)
        f['depths'] = np.stack([_depth_m(n).T for n in range(N)])
        f['labels'] = np.stack([lab.T for lab in labels]).astype(np.uint16)
    with open(path, 'r+b') as f:
        f.write(b'MATLAB 7.3 MAT-file, Platform: GLNXA64')


def test_nyu_mat_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    labels = [rng.integers(0, 895, (H, W)) for _ in range(N)]
    labels[0][0, :] = 0  # unlabeled row
    mapping = rng.integers(1, 41, 894)
    mat = str(tmp_path / 'nyu_depth_v2_labeled.mat')
    write_labeled_mat(mat, labels)
    scipy.io.savemat(tmp_path / 'classMapping40.mat',
                     dict(mapClass=mapping[None, :].astype(np.float64)))
    scipy.io.savemat(tmp_path / 'splits.mat',
                     dict(trainNdxs=np.array([[1], [3]]),
                          testNdxs=np.array([[2]])))
    out = str(tmp_path / 'nyu')
    summary = nyu_mat.main([mat, '--out', out, '--splits',
                            str(tmp_path / 'splits.mat'), '--mapping',
                            str(tmp_path / 'classMapping40.mat')])
    assert summary == dict(frames=3, labeled=1, train=2, test=1)

    ds = NYUv2RGBDDataset(out, split='train', pipeline=PIPELINE)
    assert [ds.get_data_info(i)['frame_id'] for i in range(len(ds))] == [
        '0001', '0003']
    for i, n in enumerate([0, 2]):
        res = ds[i]
        np.testing.assert_array_equal(res['img'][..., ::-1], _rgb(n))
        np.testing.assert_allclose(res['depth'], _depth_m(n), atol=5e-4)
    for n in range(N):
        name = f'{n + 1:04d}.png'
        lab40 = cv2.imread(osp.join(out, 'label40', name),
                           cv2.IMREAD_UNCHANGED)
        lab13 = cv2.imread(osp.join(out, 'label13', name),
                           cv2.IMREAD_UNCHANGED)
        for y in range(H):
            for x in range(W):
                raw = labels[n][y, x]
                if raw == 0:
                    assert lab40[y, x] == 255 and lab13[y, x] == 255
                else:
                    c40 = mapping[raw - 1]
                    assert lab40[y, x] == c40 - 1
                    assert lab13[y, x] == NYU40_TO_13[c40 - 1] - 1
    assert lab13.max() <= 12


def test_nyu_40_to_13_matches_class_names():
    lut = nyu40_to_13_lut()
    # NYU-40: 1 wall -> 11 wall, 2 floor -> 4 floor, 22 ceiling -> 2,
    # 5 chair -> 3, 25 television -> 10 tv (13-class names of nyuv2_mini)
    assert [lut[i] for i in (1, 2, 22, 5, 25, 0)] == [11, 4, 2, 3, 10, 255]


def test_nyu_mat_without_mapping_and_bad_inputs(tmp_path):
    mat = str(tmp_path / 'l.mat')
    write_labeled_mat(mat, [np.zeros((H, W))] * N)
    out = str(tmp_path / 'o')
    assert nyu_mat.main([mat, '--out', out]) == dict(frames=3, labeled=0)
    assert not osp.exists(osp.join(out, 'label40'))
    assert len(NYUv2RGBDDataset(out)) == 3
    np.save(tmp_path / 'short.npy', np.ones(10))
    with pytest.raises(ValueError, match='short.npy'):
        nyu_mat.main([mat, '--out', out, '--mapping',
                      str(tmp_path / 'short.npy')])
    (tmp_path / 'v5.mat').write_bytes(b'MATLAB 5.0 MAT-file' + bytes(200))
    with pytest.raises(ValueError, match='v5.mat.*HDF5'):
        nyu_mat.main([str(tmp_path / 'v5.mat'), '--out', out])


def test_sens_absurd_sizes_are_clear_errors(tmp_path):
    huge = str(tmp_path / 'huge.sens')
    write_sens(huge, sizes=(10**6, 10**6, DW, DH))
    with pytest.raises(ValueError, match=r'huge\.sens.*colour width'):
        scannet_sens.main([huge, '--out', str(tmp_path / 'o'),
                           '--no-progress'])
    frame = str(tmp_path / 'frame.sens')
    write_sens(frame, colour_bytes=2**60)  # never allocated
    with pytest.raises(ValueError, match=r'frame\.sens.*frame 0 declares'):
        scannet_sens.main([frame, '--out', str(tmp_path / 'o'),
                           '--no-progress'])
    assert os.listdir(tmp_path / 'o') == []  # nothing partial left


def test_truncated_sens_leaves_no_partial_scene(tmp_path):
    out = tmp_path / 'frames'
    sens = str(tmp_path / 'scene0001_00.sens')
    write_sens(sens, num_frames=3, bad_pose=())
    data = open(sens, 'rb').read()
    open(sens, 'wb').write(data[:len(data) - 60])  # last frame cut
    with pytest.raises(ValueError, match='truncated'):
        scannet_sens.main([sens, '--out', str(out), '--no-progress'])
    assert os.listdir(out) == []  # frames 0 and 1 were not kept
    # a complete file then exports normally (and replaces older exports)
    write_sens(sens, num_frames=3, bad_pose=())
    assert scannet_sens.main([sens, '--out', str(out), '--no-progress'
                              ])['exported'] == 3
    assert os.listdir(out) == ['scene0001_00']
    assert len(ScanNetRGBDDataset(str(out))) == 3
    assert oct(os.stat(out / 'scene0001_00').st_mode & 0o777) != '0o700'


def test_nyu_mat_refuses_millimetre_depth(tmp_path):
    mat = str(tmp_path / 'mm.mat')
    with h5py.File(mat, 'w') as f:
        f['images'] = np.stack([_rgb(0).transpose(2, 1, 0)])
        f['depths'] = np.stack([(_depth_m(0) * 1000.).T])  # millimetres
    with pytest.raises(ValueError, match=r'mm\.mat frame 1.*[Mm]illimetres'):
        nyu_mat.main([mat, '--out', str(tmp_path / 'nyu')])


def test_converter_writes_scannet_layout(tmp_path):
    from tools.dataset_converters.synthetic_to_disk import main
    out = str(tmp_path / 'synth')
    main([out, '--num', '2', '--size', '24', '32', '--seed', '7',
          '--frames-per-scene', '2'])
    classes = open(osp.join(out, 'classes.txt')).read().split('\n')
    assert classes[0] == '0 floor' and len(classes) == len(CLASSES) + 1
    for k in range(2):
        views = render_scene_views(7 + k, num_views=2, size=(24, 32))
        root = osp.join(out, f'scene{k:04d}_00')
        K = np.loadtxt(osp.join(root, 'intrinsics_color.txt'))
        np.testing.assert_allclose(K[:3, :3], views[0]['K'], rtol=1e-6)
        np.testing.assert_allclose(
            np.loadtxt(osp.join(root, 'intrinsics_depth.txt')), K)
        for f, view in enumerate(views):
            stem = f'{f:06d}'
            depth = cv2.imread(osp.join(root, 'depth', stem + '.png'),
                               cv2.IMREAD_UNCHANGED)
            assert depth.dtype == np.uint16
            np.testing.assert_allclose(depth / 1000., view['depth'],
                                       atol=5e-4 + 1e-6)
            label = cv2.imread(osp.join(root, 'label', stem + '.png'),
                               cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(label, view['label'])
            np.testing.assert_allclose(
                np.loadtxt(osp.join(root, 'pose', stem + '.txt')),
                view['pose'], atol=1e-6)
            colour = cv2.imread(osp.join(root, 'color', stem + '.jpg'))
            assert colour.shape == (24, 32, 3)
            assert np.abs(colour.astype(int) - view['img']).mean() < 8
