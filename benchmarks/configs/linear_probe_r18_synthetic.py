# Frozen-backbone linear pixel probe on the synthetic scenes: mmseg's
# EncoderDecoder with the pretrained ResNet-18 frozen (all stages, BN in eval
# mode) and a linear classifier on C5: LinearProbeHead
# (projects/depth_pixpro/models/heads/linear_probe_head.py: a
# parameter-free BatchNorm, then mmseg's 1x1 conv_seg; no dropout), so only
# the features' linear separability is measured. The backbone keeps the
# pretraining geometry (dilated C5, stride 16), so the probe sees exactly the
# pretrained features. Data, metric and iterations as
# configs/segmentation/fcn_r18_synthetic_cpu.py (train seeds +0..+255, val
# seeds +100_000..+100_031); the validation runs once, at the end.
#   python tools/train.py benchmarks/configs/linear_probe_r18_synthetic.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
_base_ = ['../../configs/segmentation/fcn_r18_synthetic_cpu.py']
custom_imports = dict(
    imports=['projects.depth_pixpro'], allow_failed_imports=False)
max_iters = 200
model = dict(
    backbone=dict(
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        contract_dilation=False,
        frozen_stages=4,
        norm_eval=True),
    decode_head=dict(
        _delete_=True,
        type='LinearProbeHead',
        in_channels=512,
        in_index=3,
        channels=512,
        dropout_ratio=0.,
        num_classes={{_base_.num_classes}},
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=None)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
default_hooks = dict(
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1),
    visualization=dict(type='SegVisualizationHook', draw=False))
# mIoU and boundary mIoU (pixels within 3 of a class boundary, 2 % of the
# 128x128 scenes' diagonal) from one metric
val_evaluator = dict(type='BoundaryIoUMetric', iou_metrics=['mIoU'], band=3)
test_evaluator = val_evaluator
