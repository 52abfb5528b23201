# PixPro baseline on cityscapes (ResNet-50, 2x224 crops, LARS, 100 epochs): the
# depth-aware model with no filter and one scale, i.e. exactly PixPro.
_base_ = [
    './_base_/models/depth_pixpro_r50.py', './_base_/datasets/cityscapes.py',
    './_base_/schedules/lars_cosine_100e.py', './_base_/default_runtime.py'
]
model = dict(
    head=dict(
        filters=[], scales=[dict(level=-1, spatial_thresh=0.7, weight=1.)]))
