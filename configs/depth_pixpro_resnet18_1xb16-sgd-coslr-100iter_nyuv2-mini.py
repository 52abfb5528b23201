# CPU pretraining on real RGB-D frames: the CPU demo's DepthPixPro (ResNet-18,
# 64x64 crops, SGD, batch 16) on the nyuv2_mini folders (8 labelled + 10
# unlabeled NYUv2 frames, 640x480, depth in millimetres), or any folder of
# that layout (rgb/ + depth/ [+ unlabeled/rgb, unlabeled/depth]):
#   --cfg-options train_dataloader.dataset.data_root=DIR
# 100 iterations (~89 epochs of 18 frames); its iter_100.pth is the
# checkpoint configs/segmentation/fcn_r18_nyuv2-mini_cpu.py fine-tunes
# (README, "Workflow"). A chain demo, far too little data to learn from.
_base_ = ['./depth_pixpro_resnet18_1xb16-sgd-coslr-300iter_synthetic.py']
data_root = '../shared/data/nyuv2_mini'
max_iters = 100
# files on disk: image and depth loaded first, then the CPU demo's views
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepth'),
    {{_base_.views}},
    dict(type='PackRGBDInputs'),
]
train_dataloader = dict(
    # 18 frames: an endless shuffled stream, every batch full
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='NYUv2RGBDDataset',
        data_root=data_root,
        split=None,
        include_unlabeled=True,
        pipeline=train_pipeline))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=10),
    dict(type='CosineAnnealingLR', T_max=max_iters - 10, by_epoch=False,
         begin=10, end=max_iters),
]
# the online probe's default scenes are synthetic rooms: not this data
custom_hooks = []
