# DeepLabV3+-R50-D8 on NYU Depth v2, 40 classes (795 train / 654 test), 480x640 crops,
# 20k iterations, 4 GPUs x 4 images. Checkpoint handling as
# fcn_r50_scannet.py (--cfg-options model.backbone.init_cfg.checkpoint=...).
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    './_base_/datasets/nyuv2_40.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py'
]
custom_imports = dict(
    imports=['projects.depth_pixpro'], allow_failed_imports=False)
default_scope = 'mmseg'
pretrained = 'work_dirs/depth_pixpro_nyuv2/epoch_100.pth'  # configs/depth_pixpro_nyuv2.py
num_classes = 40
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    pretrained=None,
    backbone=dict(
        type='ResNet',
        depth=50,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained,
            prefix='backbone.')),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
