# Baseline: FCN-R50 on ScanNet 2D from random initialisation.
_base_ = './fcn_r50_scannet.py'
model = dict(backbone=dict(init_cfg=None))
