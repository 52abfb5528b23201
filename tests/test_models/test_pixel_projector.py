"""PixelProjector: PixPro's per-pixel MLP, one per level, optional last BN."""
import pytest
import torch

from projects.depth_pixpro.models.necks import PixelProjector


def test_projector_is_pixpro_mlp_per_level():
    torch.manual_seed(0)
    neck = PixelProjector(in_channels=[4, 6], hid_channels=8, out_channels=3)
    feats = (torch.randn(2, 4, 5, 5), torch.randn(2, 6, 3, 3))
    out = neck(feats)
    assert [o.shape for o in out] == [(2, 3, 5, 5), (2, 3, 3, 3)]
    # 1x1 convs act on each pixel alone: a pixel's output depends only on it
    conv1, bn, _, conv2 = neck.projectors[0]
    bn.eval()
    pixel = feats[0][0, :, 2, 1]
    hidden = torch.relu(bn(conv1(pixel.view(1, 4, 1, 1))))
    expected = conv2(hidden).flatten()
    neck.eval()
    assert torch.allclose(neck(feats)[0][0, :, 2, 1], expected, atol=1e-6)
    with pytest.raises(ValueError, match='level'):
        neck(feats[:1])


def test_last_bn_normalises_output_without_affine():
    torch.manual_seed(0)
    neck = PixelProjector(
        in_channels=4, hid_channels=8, out_channels=3, with_last_bn=True)
    last = neck.projectors[0][-1]
    assert isinstance(last, torch.nn.BatchNorm2d) and not last.affine
    out = neck((torch.randn(4, 4, 6, 6) * 5 + 3, ))[0]
    # train mode: every channel has zero mean and unit variance over the
    # batch and pixels, so a constant output (collapse) is impossible
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(
        out.var(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3)
    plain = PixelProjector(in_channels=4, hid_channels=8, out_channels=3)
    assert len(plain.projectors[0]) == 4  # PixPro's default: no last BN
