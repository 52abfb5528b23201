"""Helpers shared by ``tools/train.py`` and ``tools/test.py``."""
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from . import compat


def setup_launch(cfg, launcher: str) -> None:
    """Adapt the config to the device and start CPU distribution if needed.

    With CUDA nothing changes (NCCL, SyncBN as configured). Without it, a
    distributed launch runs with gloo, plain BN and DDP without device ids.
    """
    message = compat.adapt_cfg_for_device(cfg, launcher)
    compat.init_cpu_distributed(launcher)
    if message:
        print_log(message, logger='current')


def add_safe_checkpoint_hook(cfg) -> None:
    """Make every checkpoint of the run loadable weights-only."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not any(h.get('type') == 'SafeCheckpointHook' for h in hooks):
        hooks.append(dict(type='SafeCheckpointHook'))
    cfg.custom_hooks = hooks


def build_runner(cfg) -> Runner:
    """Build the runner as OpenMMLab's tools do (honours ``runner_type``)."""
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)
