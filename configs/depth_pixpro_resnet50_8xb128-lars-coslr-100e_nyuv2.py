# DepthPixPro on nyuv2 (ResNet-50, 2x224 crops, LARS lr 4.0 @ batch 1024,
# 100 epochs): depth filter + multi-scale loss (configs/_base_/models).
_base_ = [
    './_base_/models/depth_pixpro_r50.py', './_base_/datasets/nyuv2.py',
    './_base_/schedules/lars_cosine_100e.py', './_base_/default_runtime.py'
]
