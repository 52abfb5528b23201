"""SafeCheckpointHook (message hub stored weights-only safe) and
AtomicCheckpointHook (outdated checkpoints removed only after the new one is
saved, temporary files of an interrupted save removed), and how the tools
set both up."""
import os
import os.path as osp
from collections import deque

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.logging import MMLogger

from projects.depth_pixpro import checkpoint
from projects.depth_pixpro.checkpoint import (SafeCheckpointHook,
                                              decode_message_hub,
                                              encode_message_hub)


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


class _SaveStub:
    """What CheckpointHook._save_checkpoint_with_step needs of a runner."""

    def __init__(self, work_dir, crash):
        self.work_dir, self.crash = str(work_dir), crash
        self.message_hub = MessageHub.get_instance('atomic-hook-test')
        self.logger = MMLogger.get_current_instance()

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        if self.crash:
            raise KeyboardInterrupt('killed while saving')
        torch.save({'state_dict': {}}, osp.join(out_dir, filename))


def test_outdated_checkpoint_removed_only_after_the_new_one_is_saved(
        tmp_path):
    """max_keep_ckpts=1: mmengine deletes the only checkpoint before saving
    the next; a kill in between would leave nothing to resume from."""
    from mmengine.fileio import get_file_backend

    from projects.depth_pixpro.checkpoint import AtomicCheckpointHook
    hook = AtomicCheckpointHook(interval=1, max_keep_ckpts=1, by_epoch=False)
    # what before_train sets up
    hook.out_dir, hook.filename_tmpl = str(tmp_path), 'iter_{}.pth'
    hook.keep_ckpt_ids = deque([], 1)
    hook.file_backend = get_file_backend(
        hook.out_dir, backend_args=hook.backend_args)
    hook._save_checkpoint_with_step(_SaveStub(tmp_path, False), 1, {})
    assert sorted(os.listdir(tmp_path)) == ['iter_1.pth', 'last_checkpoint']
    with pytest.raises(KeyboardInterrupt):
        hook._save_checkpoint_with_step(_SaveStub(tmp_path, True), 2, {})
    assert sorted(os.listdir(tmp_path)) == ['iter_1.pth', 'last_checkpoint']
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_1.pth')
    hook._save_checkpoint_with_step(_SaveStub(tmp_path, False), 3, {})
    assert 'iter_3.pth' in os.listdir(tmp_path)
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_3.pth')


def test_interrupted_save_temp_files_are_removed_at_the_next_start(tmp_path):
    from projects.depth_pixpro.checkpoint import AtomicCheckpointHook
    names = ['.iter_4.pth.0123abcd.tmp', 'iter_3.pth', 'notes.tmp',
             '.iter_4.pth.tmp', 'last_checkpoint']
    for name in names:
        (tmp_path / name).write_text('x')
    hook = AtomicCheckpointHook(interval=1, by_epoch=False)
    hook.before_train(_SaveStub(tmp_path, False))
    assert sorted(os.listdir(tmp_path)) == sorted(names[1:])
