# Baseline: FCN-R50 on NYUv2-40 from random initialisation.
_base_ = './fcn_r50_nyuv2-40.py'
model = dict(backbone=dict(init_cfg=None))
