"""SegOverlayHook (tools/test.py --show-dir): one figure per test image,
named after the image, with the palette's colours where the labels are."""
import os.path as osp

import numpy as np
import pytest
import torch
from matplotlib.patches import Patch
from mmengine.structures import PixelData
from mmseg.datasets import BaseSegDataset
from mmseg.structures import SegDataSample

from helpers import read_png
from projects.depth_pixpro.engine.hooks import SegOverlayHook
from projects.depth_pixpro.engine.hooks.seg_overlay_hook import (image_root,
                                                                overlay_name)
from projects.depth_pixpro.utils.atomic import write_image_atomic
from projects.depth_pixpro.visualization import (blend_labels,
                                                 build_segmentation_figure)


def test_blend_labels_by_hand():
    image = np.full((2, 3, 3), 100, np.uint8)
    labels = np.array([[0, 1, 255], [1, 7, 0]])
    palette = np.array([[200, 0, 0], [0, 50, 250]], np.uint8)
    out = blend_labels(image, labels, palette, alpha=0.5)
    assert out[0, 0].tolist() == [150, 50, 50]
    assert out[0, 1].tolist() == [50, 75, 175]
    assert out[0, 2].tolist() == [100, 100, 100]  # ignored
    assert out[1, 1].tolist() == [100, 100, 100]  # no colour for class 7
    # labels of another size are resized to the image (nearest)
    big = blend_labels(np.zeros((4, 6, 3), np.uint8), labels, palette, 1.)
    assert big[0, 0].tolist() == [200, 0, 0]
    assert big[3, 5].tolist() == [200, 0, 0]


def test_segmentation_figure_legend_lists_the_classes_shown():
    image = np.zeros((8, 8, 3), np.uint8)
    gt = np.zeros((8, 8), np.int64)
    pred = np.full((8, 8), 2)
    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    fig = build_segmentation_figure(image, gt, pred, ('a', 'b', 'c'),
                                    palette)
    assert [ax.get_title() for ax in fig.axes] == [
        'image', 'ground truth', 'prediction']
    legend, = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ['a', 'c']
    assert all(isinstance(h, Patch) for h in legend.legend_handles)
    no_gt = build_segmentation_figure(image, None, pred, ('a', 'b', 'c'),
                                      palette)
    assert [ax.get_title() for ax in no_gt.axes] == ['image', 'prediction']


@pytest.mark.parametrize('path, root, expected', [
    ('/d/img/010100008.png', '/d/img', '010100008.png'),
    ('/d/scene0000_00/color/000000.jpg', '/d',
     'scene0000_00/color/000000.png'),
    ('/elsewhere/a.jpg', '/d', 'a.png'),
    ('/d/a.jpg', None, 'a.png')])
def test_overlay_names(path, root, expected):
    assert overlay_name(path, root) == expected


@pytest.mark.parametrize('relative', [True, False])
def test_overlay_names_do_not_depend_on_how_the_root_is_given(
        tmp_path, monkeypatch, relative):
    """A relative data_root (the nyuv2_mini config's '../shared/...') gave
    the image's base name, an absolute one its path under the folder."""
    root = tmp_path / 'data'
    write_image_atomic(str(root / 'img' / 'scene0' / 'a.jpg'),
                       np.zeros((4, 4, 3), np.uint8))
    write_image_atomic(str(root / 'ann' / 'scene0' / 'a.png'),
                       np.zeros((4, 4), np.uint8))
    monkeypatch.chdir(tmp_path)
    dataset = BaseSegDataset(
        data_root='data' if relative else str(root),
        data_prefix=dict(img_path='img', seg_map_path='ann'),
        img_suffix='.jpg', seg_map_suffix='.png', pipeline=[])
    path = dataset.get_data_info(0)['img_path']
    assert overlay_name(path, image_root(dataset)) == 'scene0/a.png'


class _Dataset:
    metainfo = dict(classes=('floor', 'wall'),
                    palette=[[255, 0, 0], [0, 0, 255]])
    ignore_index = 255

    def __init__(self, root):
        self.data_root = root
        # as mmengine's BaseDataset leaves it: joined to data_root
        self.data_prefix = dict(img_path=osp.join(root, 'img'))


def test_hook_writes_one_readable_figure_per_image(tmp_path):
    root = tmp_path / 'data'
    names = ['scene0/color/000000', 'scene1/color/000000']
    samples = []
    for i, name in enumerate(names):
        path = str(root / 'img' / f'{name}.jpg')
        write_image_atomic(path, np.full((12, 16, 3), 40 * i, np.uint8))
        sample = SegDataSample(metainfo=dict(img_path=path))
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, 12, 16).long())
        sample.pred_sem_seg = PixelData(data=torch.ones(1, 12, 16).long())
        samples.append(sample)
    hook = SegOverlayHook(out_dir=str(tmp_path / 'show'))

    class Runner:
        test_dataloader = type('Loader', (), {'dataset': _Dataset(
            str(root))})

    hook.after_test_iter(Runner, 0, outputs=samples)
    assert hook.written == [str(tmp_path / 'show' / f'{n}.png')
                            for n in names]
    figure = read_png(hook.written[0])
    assert figure.shape[0] > 12 and figure.shape[1] > 3 * 16
