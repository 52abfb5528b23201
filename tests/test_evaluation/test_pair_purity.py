"""Pair purity: cell majority labels against loops and a hand-built
scene whose purity and recall are known exactly."""
import numpy as np
import pytest
import torch

from helpers import load_script
from mmpretrain.registry import MODELS, TRANSFORMS
from projects.depth_pixpro.evaluation import (FilterSetting, PurityResult,
                                              ScaleSpec, cell_majority_labels,
                                              count_view_pair,
                                              sample_labelled_views)


def _brute_majority(label, size, num_classes):
    n, h, w = label.shape
    out = torch.empty(n, size[0] * size[1], dtype=torch.long)
    for b in range(n):
        for i in range(size[0]):
            for j in range(size[1]):
                r0, r1 = (i * h) // size[0], -((-(i + 1) * h) // size[0])
                c0, c1 = (j * w) // size[1], -((-(j + 1) * w) // size[1])
                votes = [0] * (num_classes + 1)
                for r in range(r0, r1):
                    for c in range(c0, c1):
                        v = int(label[b, r, c])
                        votes[v if 0 <= v < num_classes else num_classes] += 1
                best = max(range(num_classes + 1),
                           key=lambda k: (votes[k], -k))
                out[b, i * size[1] + j] = -1 if best == num_classes else best
    return out


@pytest.mark.parametrize('hw,size', [((9, 7), (3, 2)), ((8, 8), (4, 4)),
                                     ((5, 11), (2, 3))])
def test_cell_majority_labels_match_loops(hw, size):
    gen = torch.Generator().manual_seed(hw[0] * 7 + size[1])
    label = torch.randint(0, 4, (3, *hw), generator=gen)
    label[torch.rand(3, *hw, generator=gen) < 0.3] = 255
    label[0, 0, 0] = 7  # out of range: unlabelled too
    got = cell_majority_labels(label, size, num_classes=3)
    assert torch.equal(got, _brute_majority(label, size, 3))


def test_majority_ties_go_to_a_class():
    # one cell, 2 pixels of class 1, 2 of class 0, 2 unlabelled
    label = torch.tensor([[[1, 1, 0, 0, 255, 255]]])
    assert cell_majority_labels(label, (1, 1), 2).tolist() == [[0]]
    label = torch.tensor([[[1, 255, 255]]])
    assert cell_majority_labels(label, (1, 1), 2).tolist() == [[-1]]


def _scene():
    """8x8 image, 2x2 grid of cells A B / C D.

    Labels: left half class 0, right half class 1, cell D unlabelled.
    Depth: A 1 m, B 1 m, C 1.5 m, D 1 m.
    """
    label = np.zeros((8, 8), np.uint8)
    label[:, 4:] = 1
    label[4:, 4:] = 255
    depth = np.ones((8, 8), np.float32)
    depth[4:, :4] = 1.5
    img = np.zeros((8, 8, 3), np.uint8)
    return img, depth, label


def _whole_image_views(flip_second):
    crop = dict(type='RGBDRandomResizedCrop',
                scale=8,
                crop_ratio_range=(1., 1.),
                aspect_ratio_range=(1., 1.))
    second = [crop] + ([dict(type='RGBDRandomFlip', prob=1.)]
                       if flip_second else [])
    return TRANSFORMS.build(
        dict(type='RGBDMultiView',
             num_views=[1, 1],
             transforms=[[crop], second]))


@pytest.mark.parametrize('flip_second', [False, True])
def test_hand_built_scene_purity_is_exact(flip_second):
    img, depth, label = _scene()
    views = sample_labelled_views(_whole_image_views(flip_second), img, depth,
                                  label)
    if flip_second:  # the label was flipped with its view
        assert views['coord'][1].tolist() == [1., 0., 0., 1.]
        assert torch.equal(views['label'][1],
                           torch.from_numpy(label[:, ::-1].copy()).long())
    relative = MODELS.build(dict(type='DepthPairFilter', thresh=0.1))
    # T = 0.8 takes each cell and its 4-neighbours (0.707 bin diagonals),
    # not the diagonal neighbours (1.0); T = 1.2 takes every pair.
    result = PurityResult(
        [ScaleSpec('T=0.8', 0.8, (2, 2)),
         ScaleSpec('T=1.2', 1.2, (2, 2))],
        [FilterSetting('spatial'),
         FilterSetting('relative', relative, 0.1)])
    count_view_pair(result,
                    views['coord'][None],
                    views['depth'][None],
                    views['label'][None],
                    num_classes=2)

    # T=0.8 spatial: AA BB CC DD, AB BA CD DC, AC CA BD DB (12 pairs);
    # labelled (no D): AA BB CC AB BA AC CA (7), same class: AA BB CC AC CA
    spatial = result.get('T=0.8', 'spatial')
    assert (spatial.kept, spatial.kept_labelled, spatial.kept_same,
            spatial.spatial_same) == (12, 7, 5, 5)
    assert spatial.purity == pytest.approx(5 / 7)
    assert spatial.recall == 1.
    # relative depth drops C's pairs with its 1 m neighbours (CD DC AC CA):
    # kept AA BB CC DD AB BA BD DB (8), labelled AA BB CC AB BA (5), same
    # class AA BB CC (3) of the 5 same-class spatial pairs
    filtered = result.get('T=0.8', 'relative 0.1')
    assert (filtered.kept, filtered.kept_labelled, filtered.kept_same,
            filtered.spatial_same) == (8, 5, 3, 5)
    assert filtered.purity == pytest.approx(3 / 5)
    assert filtered.recall == pytest.approx(3 / 5)
    assert filtered.kept_per_image == 8.
    # T=1.2: all 16 pairs; labelled 9 (A, B, C squared), same class 5
    wide = result.get('T=1.2', 'spatial')
    assert (wide.kept, wide.kept_labelled, wide.kept_same) == (16, 9, 5)
    tool = load_script('tools/analysis_tools/pair_purity.py', 'purity_tool')
    table = tool.markdown_table(result)
    assert '| relative 0.1 | 0.600 | 0.600 | 8.0 |' in table


def test_settings_as_configured_use_each_scale_threshold():
    img, depth, label = _scene()
    views = sample_labelled_views(_whole_image_views(False), img, depth,
                                  label)
    relative = MODELS.build(dict(type='DepthPairFilter', thresh=0.1))
    # scale 1 overrides tau with 0.5: C's 1.5 m against 1 m passes there
    result = PurityResult(
        [ScaleSpec('a', 0.8, (2, 2)),
         ScaleSpec('b', 0.8, (2, 2), overrides=dict(depth_thresh=0.5))],
        [FilterSetting('as configured', [relative], None)])
    count_view_pair(result, views['coord'][None], views['depth'][None],
                    views['label'][None], num_classes=2)
    assert result.get('a', 'as configured').kept == 8
    assert result.get('b', 'as configured').kept == 12


def test_purity_of_nothing_is_nan():
    result = PurityResult([ScaleSpec('T=0.7', 0.7, (2, 2))],
                          [FilterSetting('spatial')])
    assert np.isnan(result.get('T=0.7', 'spatial').purity)
