"""NormalPairFilter's angle in degrees: the map to its threshold on
``1 - cos``, and two planes 45 degrees apart tested at 30 and 60 degrees."""
import math

import pytest
import torch

from mmpretrain.registry import MODELS

HEIGHT, WIDTH = 48, 64


@pytest.mark.parametrize('degrees', [1., 10., 30., 45., 60., 90., 135.,
                                     180.])
def test_angle_to_threshold(degrees):
    filt = MODELS.build(dict(type='NormalPairFilter'))
    expected = 1. - math.cos(degrees * math.pi / 180.)
    assert filt.statistic_thresh(degrees) == pytest.approx(expected,
                                                           abs=1e-12)
    assert filt.statistic_thresh(math.inf) == math.inf


def _fold_45():
    """A wall z = 4 on the left half of the image and, on the right half,
    a plane turned by 45 degrees about the vertical fold line x = 0, z = 4
    (normal (1, 0, 1) / sqrt(2): z = 4 / (1 + x / z)). Pinhole rays of a
    60-degree horizontal FOV, 4:3, written out here."""
    tan_x = math.tan(math.radians(30.))
    u = (torch.arange(WIDTH, dtype=torch.float64) + 0.5) / WIDTH
    rx = ((u - 0.5) * 2 * tan_x)[None, :].expand(HEIGHT, -1)
    depth = torch.where(rx > 0, 4. / (1. + rx), torch.full_like(rx, 4.))
    return depth[None].float()


@pytest.mark.parametrize('max_angle, cross_kept', [(30., False),
                                                   (60., True)])
def test_two_planes_45_degrees_apart(max_angle, cross_kept):
    filt = MODELS.build(dict(type='NormalPairFilter', max_angle_deg=max_angle))
    coord = torch.tensor([[0., 0., 1., 1.]])
    grid = (6, 6)  # the fold is the edge between bin columns 2 and 3
    prep = filt.on_grid(filt.per_view(_fold_45(), coord), grid)
    stat, valid = filt.pair_statistic(prep, prep)
    keep = filt.keep(stat, valid, filt.thresh)[0]
    right = (torch.arange(36) % 6) >= 3
    same = right[:, None] == right[None, :]
    assert valid.all()
    assert keep[same].all()  # one plane: any angle is near 0
    assert bool(keep[~same].all()) is cross_kept
    assert bool(keep[~same].any()) is cross_kept
    # the measured angle between the planes' bins is about 45 degrees
    angle = torch.rad2deg(torch.acos(1. - stat[0][~same]))
    assert angle.min() > 35 and angle.max() < 55
