"""PairVisualizationHook: draws the head's own masks of the batch it
trained on (no backbone pass) and writes images and counts in a real run."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn

from helpers import read_png
from mmpretrain.structures import DataSample
from pair_cases import (GRIDS, build_two_level_head, head_losses,
                        two_level_batch)
from projects.depth_pixpro.engine.hooks import PairVisualizationHook
from projects.depth_pixpro.models.heads import (positive_pair_masks)
from projects.depth_pixpro.utils.scripts import read_scalars
from projects.depth_pixpro.visualization import pair_counts


class NoBackbone(nn.Module):
    """Stands for a backbone that must not run."""

    def forward(self, *args):
        raise AssertionError('the hook ran a backbone pass')


def collated_batch(coord, depth, hw=(48, 48)):
    samples = []
    for i in range(len(coord)):
        sample = DataSample()
        sample.set_field(coord[i], 'coord')
        sample.set_field(depth[i], 'depth')
        samples.append(sample)
    views = [torch.randint(0, 255, (len(coord), 3, *hw), dtype=torch.uint8)
             for _ in range(2)]
    return dict(inputs=views, data_samples=samples)


def test_hook_draws_the_head_masks_without_a_backbone_pass():
    model = nn.Module()
    model.backbone = NoBackbone()
    model.head = build_two_level_head()
    online, target, coord, depth = two_level_batch(n=2)
    hook = PairVisualizationHook(max_samples=2, scale_index=1)
    batch = collated_batch(coord, depth)
    with pytest.raises(RuntimeError, match='not computed a loss'):
        hook.draw_batch(model, batch)
    head_losses(model.head, online, target, coord, depth)
    images = hook.draw_batch(model, batch)
    assert sorted(images) == ['pairs_0', 'pairs_1']
    assert all(isinstance(img, np.ndarray) and img.ndim == 3
               and img.dtype == np.uint8 for img in images.values())
    # the counts it logs are those of the head's masks at its grid (3x3)
    pairs = positive_pair_masks(coord, depth, GRIDS[1], model.head.scales[1],
                                model.head.filters)
    expected = [pair_counts(pairs, i) for i in range(2)]
    assert hook._last_counts == {
        f'pairs/{name}': (expected[0][name] + expected[1][name]) / 2
        for name in pairs.names
    }
    assert hook._last_counts['pairs/final'] < \
        hook._last_counts['pairs/spatial']


# ---------------------------------------------------------------- hook
@pytest.mark.slow
def test_pair_visualization_hook_writes_images(pair_hook_run):
    vis = [osp.join(r, f) for r, _, files in os.walk(pair_hook_run)
           for f in files if 'vis_image' in r]
    names = sorted(osp.basename(p) for p in vis)
    assert names == ['pairs_0_1.png', 'pairs_0_2.png']
    for path in vis:
        assert read_png(path).shape[:2] == (530, 720)
    records = read_scalars(pair_hook_run)
    counts = [r for r in records if 'pairs/spatial' in r]
    assert [r['step'] for r in counts] == [1, 2]
    assert all(r['pairs/spatial+depth'] <= r['pairs/spatial']
               for r in counts)


def test_pair_visualization_hook_rejects_bad_args():
    from projects.depth_pixpro.engine.hooks import PairVisualizationHook
    with pytest.raises(ValueError):
        PairVisualizationHook(interval=0)
