# The CPU demo and the README's main job: DepthPixPro (depth filter +
# multi-scale loss) on the embedded synthetic RGB-D rooms, rendered on the fly
# (no download). ResNet-18, 64x64 crops, SGD; a few minutes on 2 cores.
_base_ = [
    './_base_/models/depth_pixpro_r18_cpu.py',
    './_base_/datasets/synthetic.py', './_base_/default_runtime.py'
]
# SGD at batch 16 (LARS is for large batches); PixPro's weight decay with
# every 1-D parameter excluded, as the GPU recipe.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-5),
    constructor='Exclude1DParamsOptimWrapperConstructor')
max_iters = 300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=20),
    dict(type='CosineAnnealingLR', T_max=max_iters - 20, by_epoch=False,
         begin=20, end=max_iters),
]
# a checkpoint every 50 iterations, so that a run stopped early (Ctrl-C
# also saves one) leaves a file for the next step of the workflow
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=50, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=16, enable=False)
# Online dense probe (engine/hooks/dense_probe_hook.py): every 50 iterations
# a closed-form linear pixel classifier on the frozen backbone's features of
# 32 labelled synthetic scenes, its mIoU on 16 others logged as probe_miou;
# a probe costs about one training iteration (README, "Watching a run").
custom_hooks = [dict(type='DenseProbeHook', interval=50)]
