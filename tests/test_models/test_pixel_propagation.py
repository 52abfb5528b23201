"""PixelPropagation (PixPro's PPM) against hand-computed values and
design.md's formula (references in tests/pixpro_reference.py, float64 loops
that share no code with the package)."""
import pytest
import torch
import torch.nn as nn

from mmpretrain.registry import MODELS
from pixpro_reference import (conv_layers, convs_of, ref_ppm)


# ---------------------------------------------------------------- PPM
def test_ppm_equals_hand_computed_formula():
    ppm = MODELS.build(
        dict(type='PixelPropagation', channels=2, transform_layers=0))
    # pixels (h-major): (1,0), (0,1), (1,1), (-1,0)
    feat = torch.tensor([[[[1., 0.], [1., -1.]], [[0., 1.], [1., 0.]]]])
    out = ppm(feat).flatten(2)[0].T
    # A = clamp(cos, 0)^2: rows [1,0,.5,0], [0,1,.5,0], [.5,.5,1,0], [0,0,0,1]
    s = 0.5**0.5
    raw = torch.tensor([[1 + 0.5 * s, 0.5 * s], [0.5 * s, 1 + 0.5 * s],
                        [0.5 + s, 0.5 + s], [-1., 0.]])
    expected = raw / raw.norm(dim=1, keepdim=True)
    torch.testing.assert_close(out, expected)
    assert out[0, 0].item() == pytest.approx(0.96754, abs=1e-4)


def test_ppm_transform_layers():
    feat = torch.randn(2, 4, 3, 3)
    for layers in (1, 2):
        ppm = MODELS.build(
            dict(type='PixelPropagation', channels=4,
                 transform_layers=layers))
        out = ppm(feat)
        assert out.shape == feat.shape
        torch.testing.assert_close(out.norm(dim=1), torch.ones(2, 3, 3))
    with pytest.raises(ValueError, match='transform_layers'):
        MODELS.build(dict(type='PixelPropagation', channels=4,
                          transform_layers=3))


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
