"""Every numeric value of the model config is checked at build time, with a
ValueError naming the key (issue 12, item 6)."""
import math
import re

import pytest

from mmpretrain.registry import MODELS

NAN, INF = math.nan, math.inf
DEPTH = dict(type='DepthPairFilter')
NORMAL = dict(type='NormalPairFilter')


def head(**kwargs):
    cfg = dict(type='MultiScalePixelHead', in_channels=8)
    cfg.update(kwargs)
    return cfg


def scale(**kwargs):
    return head(filters=[DEPTH, NORMAL], scales=[dict(kwargs)])


def algorithm(**kwargs):
    cfg = dict(
        type='DepthPixPro',
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        neck=dict(type='PixelProjector', in_channels=512, hid_channels=8,
                  out_channels=8),
        head=head())
    cfg.update(kwargs)
    return cfg


BAD = [
    # pair filters: thresholds > 0 (inf = off), other numbers in range
    (dict(DEPTH, thresh=-0.1), 'thresh'),
    (dict(DEPTH, thresh=0), 'thresh'),
    (dict(DEPTH, thresh=NAN), 'thresh'),
    (dict(DEPTH, thresh='0.1'), 'thresh'),
    (dict(DEPTH, thresh=-INF), 'thresh'),
    (dict(NORMAL, max_angle_deg=-5), 'max_angle_deg'),
    (dict(NORMAL, max_angle_deg=0), 'max_angle_deg'),
    (dict(NORMAL, max_angle_deg=NAN), 'max_angle_deg'),
    (dict(NORMAL, max_angle_deg=200), 'max_angle_deg'),
    (dict(NORMAL, fov_deg=0), 'fov_deg'),
    (dict(NORMAL, fov_deg=180), 'fov_deg'),
    (dict(NORMAL, aspect=0), 'aspect'),
    (dict(NORMAL, aspect=NAN), 'aspect'),
    (dict(NORMAL, max_rel_jump=-0.1), 'max_rel_jump'),
    # the head's scales
    (scale(spatial_thresh=0), 'scales[0].spatial_thresh'),
    (scale(spatial_thresh=-0.7), 'scales[0].spatial_thresh'),
    (scale(spatial_thresh=NAN), 'scales[0].spatial_thresh'),
    (scale(spatial_thresh=INF), 'scales[0].spatial_thresh'),
    (scale(weight=-1.), 'scales[0].weight'),
    (scale(weight=NAN), 'scales[0].weight'),
    (scale(weight=INF), 'scales[0].weight'),
    (scale(depth_thresh=-0.05), 'scales[0].depth_thresh'),
    (scale(depth_thresh=0.), 'scales[0].depth_thresh'),
    (scale(depth_thresh=NAN), 'scales[0].depth_thresh'),
    (scale(normal_max_angle=0), 'scales[0].normal_max_angle'),
    (scale(normal_max_angle=270), 'scales[0].normal_max_angle'),
    (scale(level=0.5), 'scales[0].level'),
    (head(levels=0), 'levels'),
    (head(in_channels=0), 'in_channels[0]'),
    (head(in_channels=[8, -8], levels=2), 'in_channels[1]'),
    (head(ppm=dict(gamma=0.)), 'gamma'),
    (head(ppm=dict(gamma=NAN)), 'gamma'),
    (head(ppm=dict(clamp_min=1.)), 'clamp_min'),
    (dict(type='PixelPropagation', channels=0), 'channels'),
    # the projector
    (dict(type='PixelProjector', in_channels=8, hid_channels=0),
     'hid_channels'),
    (dict(type='PixelProjector', in_channels=8, out_channels=-1),
     'out_channels'),
    (dict(type='PixelProjector', in_channels=[8, 0]), 'in_channels[1]'),
    # the algorithm
    (algorithm(base_momentum=-0.01), 'base_momentum'),
    (algorithm(base_momentum=0.), 'base_momentum'),
    (algorithm(base_momentum=1.5), 'base_momentum'),
    (algorithm(base_momentum=NAN), 'base_momentum'),
    (algorithm(end_momentum=2.), 'end_momentum'),
    (algorithm(instance_loss_weight=-1.), 'instance_loss_weight'),
]


@pytest.mark.parametrize('cfg,key', BAD,
                         ids=[f'{c["type"]}-{k}' for c, k in BAD])
def test_bad_number_is_refused_naming_its_key(cfg, key):
    with pytest.raises(ValueError, match=re.escape(key) + ' must be'):
        MODELS.build(cfg)


@pytest.mark.parametrize('cfg', [
    dict(DEPTH, thresh=INF),
    dict(NORMAL, max_angle_deg=180),
    scale(spatial_thresh=2.8, weight=0., depth_thresh=INF,
          normal_max_angle=None),
    head(ppm=dict(gamma=0.5, clamp_min=-1.)),
    algorithm(base_momentum=0.5, end_momentum=1., instance_loss_weight=0.),
])
def test_edge_values_that_mean_something_are_accepted(cfg):
    MODELS.build(cfg)


def test_checked_values_are_stored_as_floats():
    built = MODELS.build(scale(spatial_thresh=1, weight=2, depth_thresh=1))
    assert built.scales[0]['spatial_thresh'] == 1.
    assert isinstance(built.scales[0]['weight'], float)
    assert built.filters[0].scale_thresh(built.scales[0]) == 1.


def test_a_custom_filter_may_use_any_threshold_but_nan():
    """The base class does not know the statistic: a signed one may use
    thresh 0 or less; NaN is refused all the same."""
    from projects.depth_pixpro.models.filters import BasePairFilter

    class Signed(BasePairFilter):

        def on_grid(self, view, size):
            return view

        def pair_statistic(self, grid_q, grid_k):
            return grid_q, grid_k

    assert Signed(thresh=0.).thresh == 0.
    assert Signed(thresh=-1.).thresh == -1.
    with pytest.raises(ValueError, match='thresh must be a number'):
        Signed(thresh=NAN)
