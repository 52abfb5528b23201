# Quality benchmark (benchmarks/quality.py; protocol in benchmarks/README.md):
# the pretraining shared by every arm. A narrow ResNet-18 (base width 16,
# 1/4 of the standard 64) with an output stride of 8 (C4 and C5 dilated), so
# the 64x64 views of the 128x128 synthetic rooms give 8x8 feature grids (as
# PixPro's 7x7 at 224) and one CPU core runs ~2 iterations per second.
# 4096 cluttered rooms (8-16 objects of 0.25-0.8 m: position alone cannot
# tell the classes; benchmarks/quality.py renders its labelled scenes with
# the same RENDER_OPTIONS), rendered once per run and kept in memory.
# SGD + cosine at batch 16; benchmarks/quality.py sets the iterations, the
# seed, the scenes and the difficulty. Each arm changes only the positive
# pairs of the loss (scales and filters of the head).
_base_ = [
    '../../configs/_base_/models/depth_pixpro_r18_cpu.py',
    '../../configs/_base_/datasets/synthetic.py',
    '../../configs/_base_/default_runtime.py'
]
width = 16
render_options = dict(num_objects=(8, 16), object_size=(0.25, 0.8))
model = dict(
    backbone=dict(
        base_channels=width,
        stem_channels=width,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4)),
    neck=dict(in_channels=[width * 8], hid_channels=512, out_channels=128))
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        num_samples=4096,
        cache_renders=True,
        render_options=render_options,
        seed=0,
        difficulty=0.9))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-5),
    constructor='Exclude1DParamsOptimWrapperConstructor')
max_iters = 4000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=20),
    dict(type='CosineAnnealingLR', T_max=max_iters - 20, by_epoch=False,
         begin=20, end=max_iters),
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=500, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
