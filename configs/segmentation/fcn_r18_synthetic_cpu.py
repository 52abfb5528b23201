# CPU-size benchmark: FCN-R18-D8 on the synthetic scenes (7 classes), 64x64
# crops of 96x96 renders, plain BN, 200 iterations. Scenes are rendered once
# into a cache (seeds from 10_000_000 upwards, disjoint from pretraining):
# train seeds +0..+255, val seeds +100_000..+100_031.
#   python tools/train.py configs/segmentation/fcn_r18_synthetic_cpu.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
# Random init: --cfg-options model.backbone.init_cfg=None
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py', 'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(
    imports=['projects.depth_pixpro'], allow_failed_imports=False)
default_scope = 'mmseg'
pretrained = 'work_dirs/depth_pixpro_synthetic/iter_300.pth'  # the CPU demo's
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 7
img_size = (96, 96)
crop_size = (64, 64)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(
        type='ResNet',
        depth=18,
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained,
            prefix='backbone.')),
    decode_head=dict(
        in_channels=512, channels=64, num_classes=num_classes,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=256, channels=32, num_classes=num_classes,
        norm_cfg=norm_cfg))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=img_size, ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='SyntheticSceneSegDataset',
        num_images=256,
        first_seed=0,
        size=img_size,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SyntheticSceneSegDataset',
        num_images=32,
        first_seed=100_000,
        size=img_size,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='PerClassIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=200, by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200, val_interval=200)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=200, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
