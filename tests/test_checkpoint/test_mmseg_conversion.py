"""A pretraining checkpoint's online backbone for mmseg
(checkpoint/conversion.py and its command line,
tools/model_converters/depth_pixpro_to_mmseg.py): key check, online-only
extraction, layouts, refusal of other files, never overwriting, the meta it
writes, and both ways of loading into mmseg."""
import io
import os
import os.path as osp

import pytest
import torch
from mmseg.models.backbones import ResNet as SegResNet

from helpers import load_script
from mmpretrain.models import ResNet as PretrainResNet
from projects.depth_pixpro.checkpoint import (DestinationError,
                                              NotPixProCheckpointError,
                                              convert_to_mmseg,
                                              infer_resnet_arch,
                                              verify_mmseg_resnet)


@pytest.fixture(scope='module')
def tool():
    return load_script('tools/model_converters/depth_pixpro_to_mmseg.py')


def fake_pixpro_checkpoint(path, depth):
    """A DepthPixPro-like runner checkpoint; returns (online, target)."""
    torch.manual_seed(depth)
    online = PretrainResNet(depth=depth).state_dict()
    for key, value in online.items():  # non-trivial BN statistics too
        if value.is_floating_point():
            value.normal_()
    target = {k: v + 1 if v.is_floating_point() else v + 3
              for k, v in online.items()}
    state = {f'backbone.{k}': v for k, v in online.items()}
    state.update({f'target_net.module.0.{k}': v for k, v in target.items()})
    state['neck.projector.0.weight'] = torch.randn(8, 4, 1, 1)
    state['target_net.module.1.projector.0.weight'] = torch.randn(8, 4, 1, 1)
    state['head.ppm.transform.weight'] = torch.randn(8, 8, 1, 1)
    torch.save({'meta': {'epoch': 3, 'iter': 30}, 'state_dict': state}, path)
    return online, target


@pytest.mark.parametrize('depth', [18, 50])
def test_convert_takes_online_backbone(tool, tmp_path, depth):
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'out.pth')
    online, target = fake_pixpro_checkpoint(src, depth)
    assert tool.main([src, dst]) == 0
    out = torch.load(dst, weights_only=True)
    assert set(out) == {'state_dict', 'meta'}
    assert out['meta']['depth'] == depth and out['meta']['iter'] == 30
    state = out['state_dict']
    # Exactly the keys of mmseg's plain-stem ResNet, values of the ONLINE net.
    assert set(state) == set(SegResNet(depth=depth).state_dict())
    for key, value in state.items():
        assert torch.equal(value, online[key]), key
        if value.is_floating_point():
            assert not torch.equal(value, target[key]), key
    missing, unexpected = verify_mmseg_resnet(state, depth, False)
    assert missing == [] and unexpected == []


def test_torchvision_format(tool, tmp_path):
    torchvision = pytest.importorskip('torchvision')
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'tv.pth')
    online, _ = fake_pixpro_checkpoint(src, 18)
    assert tool.main([src, dst, '--format', 'torchvision']) == 0
    state = torch.load(dst, weights_only=True)
    net = torchvision.models.resnet18()
    result = net.load_state_dict(state, strict=False)
    assert sorted(result.missing_keys) == ['fc.bias', 'fc.weight']
    assert result.unexpected_keys == []
    assert torch.equal(net.layer3[1].conv2.weight, online['layer3.1.conv2.weight'])


def test_infer_arch_from_keys():
    for depth in (18, 34, 50, 101):
        keys = dict.fromkeys(SegResNet(depth=depth).state_dict())
        assert infer_resnet_arch(keys) == (depth, False)
    deep = dict.fromkeys(['stem.0.weight', *SegResNet(depth=18).state_dict()])
    assert infer_resnet_arch(deep) == (18, True)
    with pytest.raises(ValueError, match='known ResNet'):
        infer_resnet_arch({'layer1.0.conv1.weight': None})


def test_original_pixpro_layout(tmp_path):
    """``model`` with ``module.encoder.*`` (online) and ``encoder_k`` keys."""
    online = SegResNet(depth=18).state_dict()
    state = {f'module.encoder.{k}': v for k, v in online.items()}
    state.update({f'module.encoder_k.{k}': v + 1 for k, v in online.items()
                  if v.is_floating_point()})
    state['module.encoder.fc.weight'] = torch.zeros(10, 512)
    torch.save({'model': state, 'epoch': 100}, str(tmp_path / 'p.pth'))
    summary = convert_to_mmseg(str(tmp_path / 'p.pth'),
                               str(tmp_path / 'o.pth'))
    assert summary['depth'] == 18 and summary['num_keys'] == len(online)


def test_refuses_other_files(tool, tmp_path, capsys):
    plain = {'conv1.weight': torch.zeros(64, 3, 7, 7)}
    torch.save({'state_dict': plain}, str(tmp_path / 'plain.pth'))
    with pytest.raises(NotPixProCheckpointError, match='not a Depth'):
        convert_to_mmseg(str(tmp_path / 'plain.pth'), str(tmp_path / 'x.pth'))
    assert tool.main([str(tmp_path / 'plain.pth'),
                      str(tmp_path / 'x.pth')]) == 1
    assert 'not a DepthPixPro/PixPro checkpoint' in capsys.readouterr().err
    assert not osp.exists(tmp_path / 'x.pth')
    # A fine-tuned segmentation model has backbone.* keys but is refused.
    seg = {f'backbone.{k}': v for k, v in SegResNet(depth=18).state_dict().items()}
    seg['decode_head.conv_seg.weight'] = torch.zeros(3, 8, 1, 1)
    torch.save({'state_dict': seg}, str(tmp_path / 'seg.pth'))
    with pytest.raises(NotPixProCheckpointError, match='decode_head'):
        convert_to_mmseg(str(tmp_path / 'seg.pth'), str(tmp_path / 'y.pth'))
    # Not a checkpoint at all: the compat loader names the file.
    (tmp_path / 'junk.pth').write_bytes(b'not a checkpoint')
    assert tool.main([str(tmp_path / 'junk.pth'), str(tmp_path / 'z.pth')]) != 0


def _init_from(init_cfg):
    torch.manual_seed(0)
    net = SegResNet(depth=18, init_cfg=init_cfg)
    net.init_weights()
    return net.state_dict()


def test_converted_and_raw_load_into_mmseg(tool, tmp_path):
    raw, converted = str(tmp_path / 'raw.pth'), str(tmp_path / 'conv.pth')
    online, _ = fake_pixpro_checkpoint(raw, 18)
    assert tool.main([raw, converted]) == 0
    random_init = _init_from(None)
    from_converted = _init_from(dict(type='Pretrained', checkpoint=converted))
    from_raw = _init_from(
        dict(type='Pretrained', checkpoint=raw, prefix='backbone.'))
    floats = [k for k, v in online.items() if v.is_floating_point()]
    changed = [k for k in floats
               if not torch.equal(random_init[k], from_converted[k])]
    assert changed == floats
    for key in online:
        assert torch.equal(from_converted[key], online[key]), key
        assert torch.equal(from_raw[key], online[key]), key


def test_detect_layout_and_backbone_state_dict():
    """One function names every layout; the online weights of each."""
    from projects.depth_pixpro.checkpoint import (UnknownLayoutError,
                                                  backbone_state_dict,
                                                  detect_layout)
    online = {'conv1.weight': torch.zeros(1), 'layer1.0.conv1.weight':
              torch.ones(1), 'fc.weight': torch.full((1, ), 5.)}
    cases = {
        'depth_pixpro': ({f'backbone.{k}': v for k, v in online.items()}
                         | {'target_net.module.0.conv1.weight': torch.ones(1),
                            'neck.projector.0.weight': torch.ones(1)},
                         'backbone.'),
        'pixpro': ({f'module.encoder.{k}': v for k, v in online.items()}
                   | {'module.encoder_k.conv1.weight': torch.ones(1)},
                   'module.encoder.'),
        'segmentor': ({'backbone.conv1.weight': torch.zeros(1),
                       'decode_head.conv_seg.weight': torch.zeros(1)},
                      'backbone.'),
        'model': ({'backbone.conv1.weight': torch.zeros(1)}, 'backbone.'),
        'backbone': (dict(online), ''),
    }
    for kind, (state, prefix) in cases.items():
        layout = detect_layout(state)
        assert (layout.kind, layout.prefix) == (kind, prefix)
        assert layout.is_pretraining == (kind in ('depth_pixpro', 'pixpro'))
    # Official PixPro: the online encoder, never encoder_k, fc dropped.
    pixpro = backbone_state_dict({'model': cases['pixpro'][0], 'epoch': 100})
    assert list(pixpro) == ['conv1.weight', 'layer1.0.conv1.weight']
    assert torch.equal(pixpro['layer1.0.conv1.weight'], torch.ones(1))
    assert list(backbone_state_dict({'state_dict': dict(online)})) == list(
        pixpro)
    with pytest.raises(UnknownLayoutError, match='first keys: foo.weight'):
        detect_layout({'foo.weight': torch.zeros(1)})
    with pytest.raises(UnknownLayoutError, match='not a DepthPixPro'):
        backbone_state_dict({'state_dict': dict(online)},
                            pretraining_only=True)


def test_never_overwrites_the_source_or_an_existing_file(tool, tmp_path,
                                                          capsys):
    src = str(tmp_path / 'pre.pth')
    fake_pixpro_checkpoint(src, 18)
    original = (tmp_path / 'pre.pth').read_bytes()
    link = tmp_path / 'link.pth'
    link.symlink_to(tmp_path / 'pre.pth')
    for dst in (src, str(link)):  # the same file, by name or by a link
        for force in ([], ['--force']):
            assert tool.main([src, dst] + force) == 1
            assert 'is the source checkpoint' in capsys.readouterr().err
    assert (tmp_path / 'pre.pth').read_bytes() == original
    other = tmp_path / 'other.pth'
    other.write_bytes(b'keep me')
    assert tool.main([src, str(other)]) == 1
    assert '--force' in capsys.readouterr().err
    assert other.read_bytes() == b'keep me'
    assert tool.main([src, str(other), '--force']) == 0
    assert set(torch.load(other, weights_only=True)) == {'state_dict', 'meta'}


def test_crash_while_writing_keeps_the_existing_output(tool, tmp_path,
                                                       monkeypatch):
    """torch.save dies half way (disk full, kill): the file it was replacing
    is intact and no temporary file is left behind."""
    src, dst = str(tmp_path / 'pre.pth'), tmp_path / 'out.pth'
    fake_pixpro_checkpoint(src, 18)
    assert tool.main([src, str(dst)]) == 0
    before = dst.read_bytes()
    real_save = torch.save

    def save_half_then_crash(obj, f, *args, **kwargs):
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        data = buffer.getvalue()
        if isinstance(f, (str, os.PathLike)):
            with open(f, 'wb') as out:
                out.write(data[:len(data) // 2])
        else:
            f.write(data[:len(data) // 2])
        raise OSError('simulated crash while writing')

    monkeypatch.setattr(torch, 'save', save_half_then_crash)
    with pytest.raises(OSError, match='simulated crash'):
        convert_to_mmseg(src, str(dst), force=True)
    assert dst.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out.pth', 'pre.pth']


def test_convert_never_overwrites_by_default(tmp_path):
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'out.pth')
    fake_pixpro_checkpoint(src, 18)
    with open(dst, 'w') as f:
        f.write('keep me')
    with pytest.raises(DestinationError, match='--force'):
        convert_to_mmseg(src, dst)
    assert open(dst).read() == 'keep me'
    convert_to_mmseg(src, dst, force=True)
    assert torch.load(dst, weights_only=True)['meta']['depth'] == 18


def test_missing_keys_alone_are_refused(tmp_path):
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'out.pth')
    fake_pixpro_checkpoint(src, 18)
    ckpt = torch.load(src, weights_only=True)
    del ckpt['state_dict']['backbone.layer3.0.bn2.weight']
    torch.save(ckpt, src)
    with pytest.raises(RuntimeError,
                       match=r'1 missing .*layer3\.0\.bn2\.weight.* 0 '
                       'unexpected'):
        convert_to_mmseg(src, dst)
    assert not osp.exists(dst)


def test_meta_records_the_architecture(tmp_path):
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'out.pth')
    fake_pixpro_checkpoint(src, 50)
    summary = convert_to_mmseg(src, dst)
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta == dict(source='pre.pth', arch='ResNet-50', depth=50,
                        deep_stem=False, converter='depth_pixpro_to_mmseg',
                        epoch=3, iter=30)
    assert summary['depth'] == 50 and summary['deep_stem'] is False
    assert summary['missing'] == [] and summary['unexpected'] == []
