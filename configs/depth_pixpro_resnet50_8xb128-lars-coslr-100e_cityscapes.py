# DepthPixPro on cityscapes (ResNet-50, 2x224 crops, LARS lr 4.0 @ batch 1024,
# 100 epochs): depth filter + multi-scale loss (configs/_base_/models).
_base_ = [
    './_base_/models/depth_pixpro_r50.py', './_base_/datasets/cityscapes.py',
    './_base_/schedules/lars_cosine_100e.py', './_base_/default_runtime.py'
]
# Outdoor stereo depth is noisier and deeper: relative tau 0.2 (our default).
model = dict(
    head=dict(filters=[
        dict(type='DepthPairFilter', thresh=0.2, mode='relative',
             invalid='pass')
    ]))
