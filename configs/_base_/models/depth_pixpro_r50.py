# DepthPixPro, ResNet-50, C5: PixPro's projector (2048 -> 4096 -> 256) and
# pixel propagation (1 transform layer, gamma 2), plus the paper's two
# additions: a depth filter on positive pairs (relative, tau 0.1) and a
# multi-scale loss (three spatial thresholds around PixPro's 0.7). The paper
# does not publish its thresholds and weights: these defaults are ours.
# PixPro = this model with `filters=[]` and the single scale T=0.7.
# Every BN of the online network is SyncBN, as PixPro converts the whole model
# (tools/train.py makes them BN where CUDA is not available).
norm_cfg = dict(type='SyncBN')
model = dict(
    type='DepthPixPro',
    base_momentum=0.01,  # target tau: 0.99 -> 1 (cosine)
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=norm_cfg,
        # PixPro's init: each bottleneck's last BN (bn3) starts at gamma 0
        zero_init_residual=True),
    neck=dict(
        type='PixelProjector',
        in_channels=[2048],
        hid_channels=4096,
        out_channels=256,
        norm_cfg=norm_cfg),
    head=dict(
        type='MultiScalePixelHead',
        in_channels=256,
        levels=1,
        scales=[
            dict(level=-1, spatial_thresh=0.7, weight=1. / 3),
            dict(level=-1, spatial_thresh=1.4, weight=1. / 3),
            dict(level=-1, spatial_thresh=2.8, weight=1. / 3),
        ],
        filters=[
            dict(
                type='DepthPairFilter',
                thresh=0.1,
                mode='relative',
                invalid='pass')
        ],
        # 1 transform layer has no norm; a 2-layer transform's BN is SyncBN
        ppm=dict(transform_layers=1, gamma=2., norm_cfg=norm_cfg)))
