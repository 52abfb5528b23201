# CPU-size smoke benchmark on the real nyuv2_mini fixture (8 NYUv2 test frames,
# 13 classes): FCN-R18-D8, 240x320 images, 96x128 crops, plain BN, 40
# iterations; trains and evaluates on the same 8 frames, so the number only
# shows that the chain works, not transfer quality.
# Its default checkpoint is the one `python tools/train.py
# configs/depth_pixpro_nyuv2-mini.py` writes; another one:
#   --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
#   (random init: model.backbone.init_cfg=None)
_base_ = './fcn_r18_synthetic_cpu.py'
pretrained = 'work_dirs/depth_pixpro_nyuv2-mini/iter_100.pth'
data_root = '../shared/data/nyuv2_mini'
num_classes = 13
img_size = (320, 240)
crop_size = (96, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(checkpoint=pretrained)),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=img_size, ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_size, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        _delete_=True,
        type='NYUv2Seg13Dataset',
        data_root=data_root,
        split=None,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='NYUv2Seg13Dataset',
        data_root=data_root,
        split=None,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40, by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=40)
default_hooks = dict(checkpoint=dict(interval=40))
