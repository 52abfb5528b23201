"""Weights-only loading of every checkpoint (a tampered file is refused
on every route, trusted files are named), clear errors for corrupt files,
and how much of a model a checkpoint covers (matching.py)."""
import os

import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from projects.depth_pixpro import checkpoint


class _Exploit:
    """Pickles as a call to os.system: what a tampered checkpoint carries."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def _tampered_checkpoint(tmp_path, name='tampered'):
    marker = tmp_path / f'{name}.pwned'
    path = tmp_path / f'{name}.pth'
    state = {'backbone.conv1.weight': torch.zeros(64, 3, 7, 7)}
    torch.save({'state_dict': state, 'meta': _Exploit(marker)}, path)
    return str(path), marker


def test_tampered_checkpoint_refused_on_finetuning_path(tmp_path):
    """mmseg ResNet with init_cfg=Pretrained: the fine-tuning entry point."""
    path, marker = _tampered_checkpoint(tmp_path)
    from mmseg.models.backbones import ResNet
    backbone = ResNet(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone.'))
    with pytest.raises(checkpoint.CheckpointLoadError) as err:
        backbone.init_weights()
    assert path in str(err.value) and 'refusing' in str(err.value)
    assert not marker.exists()


def test_tampered_checkpoint_refused_by_load_from(tmp_path):
    path, marker = _tampered_checkpoint(tmp_path)
    with pytest.raises(checkpoint.CheckpointLoadError, match='refusing'):
        _load_checkpoint(path, map_location='cpu')
    assert not marker.exists()


def test_trusted_context_allows_only_the_named_file(tmp_path):
    path, marker = _tampered_checkpoint(tmp_path)
    other, _ = _tampered_checkpoint(tmp_path, 'other')
    with checkpoint.trusted_checkpoints([path]):
        with pytest.raises(checkpoint.CheckpointLoadError):
            checkpoint.load_checkpoint_file(other)
        checkpoint.load_checkpoint_file(path)
    assert marker.exists()  # full unpickling really happened in the block
    with pytest.raises(checkpoint.CheckpointLoadError):
        checkpoint.load_checkpoint_file(path)  # and not after it


def test_corrupt_truncated_and_missing_checkpoints_name_the_file(tmp_path):
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(1000)}}, good)
    data = good.read_bytes()
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(data[:len(data) // 2])
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'this is not a checkpoint')
    for bad in (truncated, garbage):
        with pytest.raises(checkpoint.CheckpointLoadError) as err:
            checkpoint.load_checkpoint_file(str(bad))
        assert str(bad) in str(err.value)
    with pytest.raises(checkpoint.CheckpointLoadError, match='not found'):
        checkpoint.load_checkpoint_file(str(tmp_path / 'missing.pth'))
    assert torch.equal(
        checkpoint.load_checkpoint_file(str(good))['state_dict']['w'],
        torch.ones(1000))


def test_compare_state_dicts_counts_by_hand():
    model = {'a': torch.zeros(2, 3), 'b': torch.zeros(4), 'c': torch.zeros(1)}
    ckpt = {'module.a': torch.ones(2, 3), 'b': torch.ones(5),
            'd': torch.ones(1)}
    match = checkpoint.compare_state_dicts(model, ckpt)
    assert match.matched == ['a'] and match.missing == ['c']
    assert match.mismatched == ['b: [5] in the file vs [4] in the model']
    assert match.unexpected == ['d'] and not match.complete
    assert match.summary() == (
        '1 of 3 model weights matched; 1 missing (e.g. c); 1 with another '
        'shape (e.g. b: [5] in the file vs [4] in the model); 1 unexpected '
        '(e.g. d)')
    full = checkpoint.compare_state_dicts(model, dict(model, extra=1))
    assert full.complete and full.unexpected == ['extra']
