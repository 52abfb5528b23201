"""Small contracts of the RGB-D view transforms that the alignment tests
(tests/test_rgbd_transforms.py) do not reach: the recorded image shape,
independent views, registry names and reprs."""
import numpy as np
import pytest

from mmpretrain.registry import TRANSFORMS
from projects.depth_pixpro.datasets.transforms.rgbd_views import (
    RGBDMultiView, RGBDRandomResizedCrop)

pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26


def sample(h=40, w=50):
    rng = np.random.default_rng(0)
    return dict(img=rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
                depth=rng.uniform(0.5, 4., (h, w)).astype(np.float32),
                meta=dict(seen=[]))


def test_crop_records_the_output_shape():
    out = RGBDRandomResizedCrop(scale=(24, 32))(sample())
    assert out['img'].shape == (24, 32, 3)
    assert tuple(out['img_shape']) == (24, 32)
    assert out['depth'].shape == (24, 32)


def test_views_do_not_share_nested_state():
    """Each view pipeline gets its own deep copy of the sample: a transform
    that edits a nested object in place cannot leak into the other view."""

    def mark(results):
        results['meta']['seen'].append(len(results['meta']['seen']))
        results['img'] = results['img'].copy()
        results['img'][0, 0] = len(results['meta']['seen'])
        return results

    crop = dict(type='RGBDRandomResizedCrop', scale=16)
    multi = RGBDMultiView([[crop, mark], [crop, mark]], num_views=[1, 1])
    data = sample()
    out = multi(data)
    assert [int(img[0, 0, 0]) for img in out['img']] == [1, 1]
    assert data['meta']['seen'] == [] and out['meta']['seen'] == []
    assert tuple(out['img_shape']) == (16, 16)


def test_registered_names_build_the_classes():
    for name in ('RGBDRandomResizedCrop', 'RGBDRandomFlip', 'RGBDMultiView',
                 'PackRGBDInputs'):
        assert TRANSFORMS.get(name) is not None, name
        assert TRANSFORMS.get(name).__name__ == name


def test_reprs_name_the_views():
    multi = RGBDMultiView(
        [[dict(type='RGBDRandomResizedCrop', scale=16)],
         [dict(type='RGBDRandomResizedCrop', scale=16),
          dict(type='RGBDRandomFlip', prob=0.5)]], num_views=[1, 2])
    text = repr(multi)
    assert text.startswith('RGBDMultiView(')
    assert 'Pipeline 1 with 1 views' in text
    assert 'Pipeline 2 with 2 views' in text
    assert 'RGBDRandomFlip' in text and text.endswith(')')
