# Baseline: FCN-R50 on ScanNet 2D from ImageNet-supervised weights that the
# user supplies as a local file (torchvision or mmseg ResNet-50 state dict;
# nothing is downloaded):
#   --cfg-options model.backbone.init_cfg.checkpoint=/path/resnet50-imagenet.pth
_base_ = './fcn_r50_scannet.py'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet50_imagenet.pth',  # placeholder
            prefix=None)))
