# FCN-R50-D8 on ScanNet 2D (20 classes), 480x640 crops, 40k iterations,
# 4 GPUs x 4 images. Benchmark protocol of the MoCo/PixPro line: mmseg
# ResNet with the plain stem, initialised from the pretraining checkpoint:
#   python tools/train.py configs/segmentation/fcn_r50_scannet.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
# A file from tools/model_converters/depth_pixpro_to_mmseg.py has no
# 'backbone.' prefix: add model.backbone.init_cfg.prefix=None.
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py',
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
