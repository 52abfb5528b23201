# Runtime shared by all pretraining configs (mmpretrain registries).
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(
    imports=['projects.depth_pixpro'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))

log_processor = dict(window_size=10)
