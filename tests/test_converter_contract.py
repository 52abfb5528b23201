"""Converter contracts that surviving mutants showed untested: the
``convert()`` defaults, a checkpoint missing keys (none unexpected), and
the meta it writes."""
import os.path as osp

import pytest
import torch
from test_converter_mmseg import fake_pixpro_checkpoint, tool  # noqa: F401


def test_convert_never_overwrites_by_default(tool, tmp_path):  # noqa: F811
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'out.pth')
    fake_pixpro_checkpoint(src, 18)
    with open(dst, 'w') as f:
        f.write('keep me')
    with pytest.raises(tool.DestinationError, match='--force'):
        tool.convert(src, dst)
    assert open(dst).read() == 'keep me'
    tool.convert(src, dst, force=True)
    assert torch.load(dst, weights_only=True)['meta']['depth'] == 18


def test_missing_keys_alone_are_refused(tool, tmp_path):  # noqa: F811
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'out.pth')
    fake_pixpro_checkpoint(src, 18)
    ckpt = torch.load(src, weights_only=True)
    del ckpt['state_dict']['backbone.layer3.0.bn2.weight']
    torch.save(ckpt, src)
    with pytest.raises(RuntimeError,
                       match=r'1 missing .*layer3\.0\.bn2\.weight.* 0 '
                       'unexpected'):
        tool.convert(src, dst)
    assert not osp.exists(dst)


def test_meta_records_the_architecture(tool, tmp_path):  # noqa: F811
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'out.pth')
    fake_pixpro_checkpoint(src, 50)
    summary = tool.convert(src, dst)
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta == dict(source='pre.pth', arch='ResNet-50', depth=50,
                        deep_stem=False, converter='depth_pixpro_to_mmseg',
                        epoch=3, iter=30)
    assert summary['depth'] == 50 and summary['deep_stem'] is False
    assert summary['missing'] == [] and summary['unexpected'] == []
