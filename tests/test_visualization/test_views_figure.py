"""The figure of a sample's views (browse_dataset.py): crop boxes where the
views were cut, depth with one colour bar, crops described in words."""
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from projects.depth_pixpro.coord import crop_box_to_coord, flip_coord
from projects.depth_pixpro.visualization import (build_views_figure,
                                                 describe_crop)


def test_describe_crop_reads_a_flipped_box_as_a_box():
    assert describe_crop([0.03, 0.02, 0.77, 0.89]) == \
        'x 0.03-0.77, y 0.02-0.89'
    assert describe_crop([0.77, 0.02, 0.03, 0.89]) == \
        'x 0.03-0.77, y 0.02-0.89, flipped'


def _boxes(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_views_figure_draws_each_crop_box_and_one_depth_bar():
    image = np.zeros((48, 64, 3), np.uint8)
    depth = np.linspace(1, 4, 48 * 64, dtype=np.float32).reshape(48, 64)
    depth[:4] = 0  # invalid
    coords = [crop_box_to_coord(5, 12, 20, 31, 48, 64),
              flip_coord(crop_box_to_coord(0, 0, 48, 32, 48, 64))]
    views = [np.zeros((16, 16, 3), np.uint8)] * 2
    view_depths = [np.full((16, 16), 2., np.float32),
                   np.full((16, 16), 5., np.float32)]
    fig = build_views_figure(image, depth, views, view_depths, coords,
                             title='t')
    assert len(fig.axes) == 7  # 2 rows x 3 panels + the colour bar
    for ax in (fig.axes[0], fig.axes[3]):  # image and depth, boxes on both
        first, second = _boxes(ax)
        # the pixel boxes: edges half a pixel outside the pixel centres
        assert first.get_xy() == pytest.approx((11.5, 4.5))
        assert (first.get_width(), first.get_height()) == \
            pytest.approx((31, 20))
        assert second.get_xy() == pytest.approx((-0.5, -0.5))
        assert (second.get_width(), second.get_height()) == \
            pytest.approx((32, 48))
        assert first.get_edgecolor()[:3] != second.get_edgecolor()[:3]
    assert fig.axes[2].get_title().endswith(', flipped')
    bar = fig.axes[-1]
    assert bar.get_ylabel() == 'depth (m); white = invalid'
    # one range for the whole depth and both views (5 m: view 2)
    assert bar.get_ylim() == pytest.approx((1 + 3 * 4 * 64 / (48 * 64 - 1),
                                            5.), rel=1e-4)
    # a sample without depth: one row, no bar
    fig = build_views_figure(image, None, views, None, coords)
    assert len(fig.axes) == 3
