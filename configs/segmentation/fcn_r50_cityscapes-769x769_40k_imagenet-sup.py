# Baseline: FCN-R50 on Cityscapes from user-supplied ImageNet-supervised
# weights (local torchvision/mmseg ResNet-50 file, nothing is downloaded):
#   --cfg-options model.backbone.init_cfg.checkpoint=/path/resnet50-imagenet.pth
_base_ = './fcn_r50_cityscapes-769x769_40k.py'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet50_imagenet.pth',  # placeholder
            prefix=None)))
