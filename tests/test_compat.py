"""mmcv._ext shim, device adaptation, weights-only loading, and the old
`compat`/`tools_utils` import paths."""
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint

from projects.depth_pixpro import checkpoint, device, mmcv_shim
from projects.depth_pixpro.checkpoint import (SafeCheckpointHook,
                                              decode_message_hub,
                                              encode_message_hub)


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


def test_mmcv_ext_shim_fails_only_when_an_op_is_called():
    ext = sys.modules['mmcv._ext']
    if not getattr(ext, 'IS_SHIM', False):
        pytest.skip('full mmcv installed: no shim needed')
    import mmcv.ops  # noqa: F401  (import works through the shim)
    with pytest.raises(RuntimeError, match='compiled mmcv extension'):
        ext.nms_forward(torch.zeros(1))
    from mmengine.utils.dl_utils import mmcv_full_available
    assert mmcv_full_available()  # pkgutil.find_loader needs a real spec


def test_shim_is_noop_when_ext_exists():
    assert mmcv_shim.install_mmcv_ext_shim() is False


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
def test_adapt_cfg_for_cpu_distributed():
    cfg = Config(
        dict(
            model=dict(
                backbone=dict(norm_cfg=dict(type='SyncBN')),
                neck=[dict(norm_cfg=dict(type='SyncBN', eps=1e-5))]),
            env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    message = device.adapt_cfg_for_device(cfg, 'pytorch')
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert cfg.model.neck[0].norm_cfg.type == 'BN'
    assert cfg.model.neck[0].norm_cfg.eps == 1e-5
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert '2 SyncBN -> BN' in message
    single = Config(dict(model=dict(norm_cfg=dict(type='SyncBN'))))
    device.adapt_cfg_for_device(single, 'none')
    assert single.model.norm_cfg.type == 'BN'
    assert 'model_wrapper_cfg' not in single


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


def test_message_hub_encoding_round_trip_is_weights_only_safe(tmp_path):
    hub = MessageHub('safe-ckpt-test')
    for value in (1.0, 2.5, 4.0):
        hub.update_scalar('train/loss', value)
    hub.update_scalar('train/lr', np.float64(0.1))
    hub.update_info('iter', np.int64(7))
    state = hub.state_dict()
    path = osp.join(tmp_path, 'hub.pth')
    torch.save({'message_hub': encode_message_hub(state)}, path)
    loaded = torch.load(path, weights_only=True)['message_hub']
    decoded = decode_message_hub(loaded)
    buf = decoded['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == pytest.approx(2.5)
    assert buf.current() == pytest.approx(4.0)
    assert decoded['runtime_info']['iter'] == 7
    restored = MessageHub('safe-ckpt-test-2')
    restored.load_state_dict(decoded)
    assert restored.get_scalar('train/loss').data[0].tolist() == [1., 2.5, 4.]
    hook = SafeCheckpointHook()
    ckpt = {'message_hub': state, 'meta': {'seed': np.int64(3)}}
    hook.before_save_checkpoint(None, ckpt)
    assert ckpt['meta']['seed'] == 3 and type(ckpt['meta']['seed']) is int


def test_old_import_paths_reexport_the_new_modules():
    """Configs and scripts importing compat/tools_utils keep working."""
    from projects.depth_pixpro import compat, tools_utils
    from projects.depth_pixpro.engine.hooks import safe_checkpoint_hook
    assert compat.install_mmcv_ext_shim is mmcv_shim.install_mmcv_ext_shim
    assert compat.adapt_cfg_for_device is device.adapt_cfg_for_device
    assert compat.init_cpu_distributed is device.init_cpu_distributed
    assert compat.load_checkpoint_file is checkpoint.load_checkpoint_file
    assert compat.trusted_checkpoints is checkpoint.trusted_checkpoints
    assert compat.CheckpointLoadError is checkpoint.CheckpointLoadError
    assert tools_utils.setup_launch is device.setup_launch
    assert tools_utils.build_runner is device.build_runner
    assert tools_utils.add_safe_checkpoint_hook is \
        checkpoint.ensure_checkpoint_hooks
    assert safe_checkpoint_hook.SafeCheckpointHook is SafeCheckpointHook


def test_ensure_checkpoint_hooks_sets_up_each_hook_once():
    cfg = Config(dict(default_hooks=dict(
        checkpoint=dict(type='CheckpointHook', interval=5))))
    checkpoint.ensure_checkpoint_hooks(cfg)
    checkpoint.ensure_checkpoint_hooks(cfg, allow_partial_load=True)
    assert cfg.custom_hooks == [
        dict(type='SafeCheckpointHook', allow_partial_load=True)]
    assert cfg.default_hooks.checkpoint == dict(
        type='AtomicCheckpointHook', interval=5)
    bare = Config(dict())  # mmengine's default: CheckpointHook(interval=1)
    checkpoint.ensure_checkpoint_hooks(bare)
    assert bare.default_hooks.checkpoint == dict(
        type='AtomicCheckpointHook', interval=1)
    assert bare.custom_hooks == [dict(type='SafeCheckpointHook')]
    off = Config(dict(default_hooks=dict(checkpoint=None)))
    checkpoint.ensure_checkpoint_hooks(off)
    assert off.default_hooks.checkpoint is None  # checkpointing stays off


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
