# UPerNet-R50 on ScanNet 2D (20 classes); same data, schedule and checkpoint
# handling as fcn_r50_scannet.py.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    './_base_/datasets/scannet20.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py'
]
custom_imports = dict(
    imports=['projects.depth_pixpro'], allow_failed_imports=False)
default_scope = 'mmseg'
pretrained = 'work_dirs/depth_pixpro_scannet/epoch_100.pth'  # configs/depth_pixpro_scannet.py
num_classes = 20
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
