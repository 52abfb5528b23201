# Runtime shared by all pretraining configs (mmpretrain registries).
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(
    imports=['projects.depth_pixpro'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    # watch pretraining (engine/hooks): one warning when the projections
    # collapse (feat_std, logged with the losses), one line for the frozen
    # target parameters and one summary line of the run
    collapse_monitor=dict(type='CollapseMonitorHook'),
    run_summary=dict(type='RunSummaryHook'),
    # refuse, before the first iteration, depth kinds the filters cannot test
    depth_kind_check=dict(type='DepthKindCheckHook'))

log_processor = dict(window_size=10)
