# Baseline: FCN-R50 on Cityscapes from random initialisation.
_base_ = './fcn_r50_cityscapes-769x769_40k.py'
model = dict(backbone=dict(init_cfg=None))
