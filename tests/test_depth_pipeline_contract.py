"""The depth contract through the real view pipeline: RGBDMultiView ->
PackRGBDInputs -> collate -> stack_depth -> the head's positive masks."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from projects.depth_pixpro.datasets.transforms import (PackRGBDInputs,
                                                       RGBDMultiView)
from projects.depth_pixpro.models.filters import DepthPairFilter
from projects.depth_pixpro.models.heads import positive_pair_masks
from projects.depth_pixpro.models.utils import pool_depth, stack_depth

pytestmark = pytest.mark.numpy_compat  # CI: numpy 2.x and 1.26

NEAR, WALL = 1.5, (2., 3.)  # a box at 1.5 m in front of a 2-3 m wall
VIEW = [
    dict(type='RGBDRandomResizedCrop', scale=32, crop_ratio_range=(0.1, 1.)),
    dict(type='RGBDRandomFlip', prob=0.5),
]


def wall_with_box(height=96, width=128):
    u = (np.arange(width) + 0.5) / width
    depth = np.repeat((WALL[0] + (WALL[1] - WALL[0]) * u)[None], height, 0)
    depth[60:80, 10:40] = NEAR
    depth[:4] = 0  # a few invalid rows
    return depth.astype(np.float32)


def pipeline_batch(num, kinds, seed=0):
    np.random.seed(seed)
    multi = RGBDMultiView(transforms=[VIEW, VIEW], num_views=[1, 1])
    pack = PackRGBDInputs()
    img = np.random.randint(0, 255, (96, 128, 3), np.uint8)
    batch = []
    for n in range(num):
        depth = wall_with_box()
        if kinds[n % len(kinds)] is None:  # a sample without depth
            results = dict(img=img.copy(), img_path=f'{n}.png')
        else:
            results = dict(img=img.copy(), depth=depth, img_path=f'{n}.png',
                           depth_kind=kinds[n % len(kinds)])
        batch.append(pack(multi(results)))
    data = default_collate(batch)
    coord = torch.stack([s.coord for s in data['data_samples']])
    return coord, data['data_samples']


def test_normalized_pairs_through_the_pipeline_use_the_image_range():
    coord, samples = pipeline_batch(40, ['affine'])
    depth, meta = stack_depth(samples)
    # the range is the whole image's, measured before cropping
    image = wall_with_box()
    low, high = float(image[image > 0].min()), float(image.max())
    assert torch.equal(meta.ranges, torch.tensor([[low, high]] * 40))
    assert meta.kinds == ('affine', ) * 40 and meta.has_depth.all()
    scale, tau, span = dict(spatial_thresh=1.4), 0.1, high - low
    pairs = positive_pair_masks(coord, depth, (4, 4), scale,
                                [DepthPairFilter(thresh=tau, mode='auto')],
                                depth_meta=meta)
    # normalised with the image's range, a difference of tau is tau * span
    # metres, whatever the crops
    zq, zk = (pool_depth(depth[:, v], (4, 4)).flatten(1) for v in (0, 1))
    valid = (zq > 0)[:, :, None] & (zk > 0)[:, None, :]
    metres = (zq[:, :, None] - zk[:, None, :]).abs()
    expected = pairs.spatial & (~valid | (metres < tau * span))
    tie = (metres - tau * span).abs() < 1e-4  # float rounding only
    assert torch.equal(pairs.final & ~tie, expected & ~tie)
    removed = pairs.spatial.sum() - pairs.final.sum()
    assert 0 < removed < pairs.spatial.sum()
    # normalising each crop by its own range would change the result
    def per_crop(z):
        lo = torch.where(z > 0, z, torch.full_like(z, 1e9)).amin(1, True)
        hi = z.amax(1, keepdim=True)
        return (z - lo) / (hi - lo).clamp(min=1e-6)

    crop_diff = (per_crop(zq)[:, :, None] - per_crop(zk)[:, None, :]).abs()
    per_crop_final = pairs.spatial & (~valid | (crop_diff < tau))
    assert not torch.equal(per_crop_final, pairs.final)


@pytest.mark.parametrize('invalid', ['pass', 'reject', 'far'])
def test_mixed_kinds_and_a_sample_without_depth_through_the_pipeline(
        invalid):
    kinds = ['metric', 'affine', None, 'inverse']
    coord, samples = pipeline_batch(8, kinds, seed=3)
    depth, meta = stack_depth(samples)
    assert meta.kinds[:2] == ('metric', 'affine')
    assert meta.has_depth.tolist() == [True, True, False, True] * 2
    pairs = positive_pair_masks(
        coord, depth, (4, 4), dict(spatial_thresh=1.4),
        [DepthPairFilter(thresh=0.05, mode='auto', invalid=invalid)],
        depth_meta=meta)
    no_depth = ~meta.has_depth
    assert torch.equal(pairs.final[no_depth], pairs.spatial[no_depth])
    assert pairs.final[~no_depth].sum() < pairs.spatial[~no_depth].sum()
    # a fixed mode that an affine sample does not allow is refused
    with pytest.raises(ValueError, match="'affine' depth of sample '1.png'"):
        positive_pair_masks(coord, depth, (4, 4), dict(spatial_thresh=1.4),
                            [DepthPairFilter(mode='relative')],
                            depth_meta=meta)
