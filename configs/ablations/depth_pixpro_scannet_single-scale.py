# Ablation: depth filter with PixPro's single scale (T = 0.7).
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    head=dict(scales=[dict(level=-1, spatial_thresh=0.7, weight=1.)]))
