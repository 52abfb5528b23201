"""PixelPropagation and MultiScalePixelHead against design.md's formulas.

The references (tests/pixpro_reference.py) are written from the design
document with loops in float64; they share no code with the package: only
the module's learned weights are read from it.
"""
import pytest
import torch
import torch.nn as nn

from mmpretrain.registry import MODELS
from pixpro_reference import (conv_layers, ref_pair_loss, ref_ppm,
                              ref_spatial_ratio)


def convs_of(module):
    """The 1x1 convolutions of a propagation module, in forward order."""
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def random_feat(n=2, c=6, size=(3, 4), seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, *size, generator=gen)


@pytest.mark.parametrize('gamma,clamp_min', [(2., 0.), (3., 0.), (1., -1.)])
def test_ppm_with_one_transform_layer_matches_the_formula(gamma, clamp_min):
    """Affinity from x (not g(x)); values g(x) with PixPro's 1x1 conv g."""
    torch.manual_seed(1)
    ppm = MODELS.build(dict(type='PixelPropagation', channels=6,
                            transform_layers=1, gamma=gamma,
                            clamp_min=clamp_min))
    # a non-trivial g: a random (not near-identity) conv with a bias
    for conv in convs_of(ppm):
        nn.init.normal_(conv.weight)
        nn.init.normal_(conv.bias)
    feat = random_feat()
    out = ppm(feat)
    assert out.shape == feat.shape
    layers = conv_layers(convs_of(ppm)[0])
    for n in range(2):
        expected = ref_ppm(feat[n].flatten(1), layers, gamma, clamp_min)
        torch.testing.assert_close(
            out[n].flatten(1).double(), expected, atol=1e-5, rtol=0)


def test_ppm_with_two_transform_layers_matches_the_formula():
    """g = conv - BN (training: batch statistics) - ReLU - conv."""
    torch.manual_seed(2)
    ppm = MODELS.build(dict(type='PixelPropagation', channels=6,
                            transform_layers=2))
    ppm.train()
    bns = [m for m in ppm.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 1 and len(convs_of(ppm)) == 2
    nn.init.uniform_(bns[0].weight, 0.5, 1.5)
    nn.init.normal_(bns[0].bias)
    feat = random_feat(n=3, seed=4)
    out = ppm(feat)

    first, second = convs_of(ppm)
    hidden = torch.stack([
        torch.einsum('oc,cp->op', conv_layers(first)[0][1],
                     feat[n].flatten(1).double()) +
        conv_layers(first)[0][2][:, None] for n in range(3)
    ])  # [N, C, HW]
    mean = hidden.mean(dim=(0, 2))
    var = hidden.var(dim=(0, 2), unbiased=False)
    bn = ('bn_relu', mean, var, bns[0].weight.detach().double(),
          bns[0].bias.detach().double(), bns[0].eps)
    layers = conv_layers(first) + [bn] + conv_layers(second)
    for n in range(3):
        expected = ref_ppm(feat[n].flatten(1), layers)
        torch.testing.assert_close(
            out[n].flatten(1).double(), expected, atol=1e-5, rtol=0)


# ---------------------------------------------------------------- head
# Dyadic boxes (exact in float32), the second view of image 1 flipped.
COORD = torch.tensor([
    [[0.0, 0.0, 0.75, 0.875], [0.875, 0.125, 0.125, 1.0]],
    [[0.125, 0.125, 0.875, 0.875], [0.0, 0.0, 1.0, 0.75]],
    [[0.5, 0.5, 1.0, 1.0], [0.0, 0.0, 0.4375, 0.4375]],  # no overlap
])


def head_inputs(grids, seed=0, n=3, channels=8):
    gen = torch.Generator().manual_seed(seed)
    online = [[torch.randn(n, channels, *g, generator=gen) for g in grids]
              for _ in range(2)]
    target = [[torch.randn(n, channels, *g, generator=gen) for g in grids]
              for _ in range(2)]
    return online, target


def ref_head_loss(head, online, target, coord, level, spatial_thresh,
                  depth=None, depth_thresh=None):
    """One scale's loss, summed over both view orders, and its positives.

    ``depth`` [N, 2, H, W] is given at the grid's own resolution, so pooling
    is the identity; relative test, invalid (0) pairs pass.
    """
    ppm = head.propagations[str(level)]
    layers = conv_layers(convs_of(ppm)[0])
    size = tuple(online[0][level].shape[-2:])
    n_img = coord.shape[0]
    total, counts = 0., []
    for q, k in ((0, 1), (1, 0)):
        pred = [ref_ppm(online[q][level][n].flatten(1), layers)
                for n in range(n_img)]
        tgt = [target[k][level][n].flatten(1) for n in range(n_img)]
        ratio = [ref_spatial_ratio(coord[n, q], coord[n, k], size)
                 for n in range(n_img)]
        for n in range(n_img):  # no pair is tied with the threshold
            assert all(abs(r - spatial_thresh) > 1e-5
                       for row in ratio[n] for r in row)

        def positive(n, i, j):
            if not ratio[n][i][j] < spatial_thresh:
                return False
            if depth is None:
                return True
            zi = float(depth[n, q].flatten()[i])
            zj = float(depth[n, k].flatten()[j])
            if zi <= 0 or zj <= 0:
                return True
            return abs(zi - zj) / max(zi, zj) < depth_thresh

        total += ref_pair_loss(pred, tgt, positive)
        counts.append([
            sum(positive(n, i, j) for i in range(len(ratio[n]))
                for j in range(len(ratio[n]))) for n in range(n_img)
        ])
    return total, counts


def test_head_matches_pixpro_written_out():
    head = MODELS.build(dict(type='MultiScalePixelHead', in_channels=8))
    online, target = head_inputs([(4, 4)])
    out = head.loss(online, target, COORD)
    expected, counts = ref_head_loss(head, online, target, COORD, 0, 0.7)
    assert out['loss_s0'].item() == pytest.approx(expected, abs=1e-5)
    # statistics: mean over (view order, image); image 2 has no positive
    flat = [c for order in counts for c in order]
    assert counts[0][2] == counts[1][2] == 0 and min(counts[0][:2]) > 0
    assert out['pos_spatial'].item() == pytest.approx(sum(flat) / len(flat))
    assert out['pos_final'].item() == pytest.approx(sum(flat) / len(flat))
    assert out['imgs_no_pos'].item() == 1
    assert out['removed_by_filters'].item() == 0


def test_multi_scale_multi_level_matches_weighted_references():
    """Each scale's logged loss = w_s * its own written-out loss, with its
    level's propagation, spatial and depth thresholds."""
    gen = torch.Generator().manual_seed(5)
    head = MODELS.build(dict(
        type='MultiScalePixelHead', in_channels=[8, 8], levels=2,
        filters=[dict(type='DepthPairFilter', thresh=0.2)],
        scales=[dict(level=0, spatial_thresh=0.7, weight=1.0),
                dict(level=0, spatial_thresh=1.5, weight=0.5,
                     depth_thresh=0.05),
                dict(level=1, spatial_thresh=0.9, weight=2.0,
                     depth_thresh=float('inf'))]))
    online, target = head_inputs([(4, 4), (2, 2)], seed=6)
    # depth at the level-0 grid; a few invalid cells
    depth = torch.rand(3, 2, 4, 4, generator=gen) * 4 + 0.5
    depth[0, 0, 0, :2] = 0.
    depth[1, 1, 3, 3] = 0.
    out = head.loss(online, target, COORD, depth)

    ref0, counts0 = ref_head_loss(head, online, target, COORD, 0, 0.7,
                                  depth, 0.2)
    ref1, _ = ref_head_loss(head, online, target, COORD, 0, 1.5, depth, 0.05)
    ref2, _ = ref_head_loss(head, online, target, COORD, 1, 0.9)
    assert out['loss_s0'].item() == pytest.approx(1.0 * ref0, abs=1e-5)
    assert out['loss_s1'].item() == pytest.approx(0.5 * ref1, abs=1e-5)
    assert out['loss_s2'].item() == pytest.approx(2.0 * ref2, abs=1e-5)
    flat = [c for order in counts0 for c in order]
    assert out['pos_final'].item() == pytest.approx(sum(flat) / len(flat))
    _, spatial0 = ref_head_loss(head, online, target, COORD, 0, 0.7)
    spatial = sum(c for order in spatial0 for c in order)
    assert sum(flat) < spatial  # the depth filter removed pairs
    assert out['removed_by_filters'].item() == pytest.approx(
        1 - sum(flat) / spatial)
