# Ablation: two feature levels, C4 (stride 16) and C5, each with its own
# projector and propagation module; one scale per level.
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    backbone=dict(out_indices=(2, 3)),
    neck=dict(in_channels=[1024, 2048]),
    head=dict(
        levels=2,
        scales=[
            dict(level=0, spatial_thresh=0.7, weight=0.5),
            dict(level=1, spatial_thresh=0.7, weight=0.5),
        ]))
