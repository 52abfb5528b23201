# FCN-R50-D8 on Cityscapes (19 classes), 769x769 crops, 40k iterations, 4 GPUs x
# 2 images (mmseg's own config, data under data/cityscapes/), with mmseg's
# plain-stem ResNet initialised from the pretraining checkpoint:
#   --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
# (converted files: add model.backbone.init_cfg.prefix=None).
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-769x769.py'
custom_imports = dict(
    imports=['projects.depth_pixpro'], allow_failed_imports=False)
default_scope = 'mmseg'
pretrained = 'work_dirs/depth_pixpro_cityscapes/epoch_100.pth'  # configs/depth_pixpro_cityscapes.py
model = dict(
    pretrained=None,
    backbone=dict(
        type='ResNet',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained,
            prefix='backbone.')))
val_evaluator = dict(type='PerClassIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
