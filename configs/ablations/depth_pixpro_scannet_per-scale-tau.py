# Ablation: each scale with its own depth threshold (looser at larger T).
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    head=dict(scales=[
        dict(level=-1, spatial_thresh=0.7, depth_thresh=0.05, weight=1. / 3),
        dict(level=-1, spatial_thresh=1.4, depth_thresh=0.1, weight=1. / 3),
        dict(level=-1, spatial_thresh=2.8, depth_thresh=0.2, weight=1. / 3),
    ]))
