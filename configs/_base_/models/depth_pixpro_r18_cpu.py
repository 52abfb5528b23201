# CPU-sized DepthPixPro: ResNet-18 whose last stage is dilated (stride 16),
# so that 64x64 crops give a 4x4 C5 grid; smaller projector (512 -> 1024 ->
# 128). Same method as the ResNet-50 model: depth filter + three scales.
# One deviation from PixPro: the projector output is batch-normalised
# (no affine), because at this scale (batch 16, 4x4 grids) PixPro's projector
# collapses to a constant within ~40 iterations (README, "Results").
_base_ = ['./depth_pixpro_r50.py']
norm_cfg = dict(type='BN')  # one process
model = dict(
    backbone=dict(
        depth=18,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        norm_cfg=norm_cfg,
        # the init the README's CPU results were measured with (PixPro, and
        # the GPU configs, zero the last BN of each block)
        zero_init_residual=False),
    neck=dict(
        in_channels=[512],
        hid_channels=1024,
        out_channels=128,
        norm_cfg=norm_cfg,
        with_last_bn=True),
    head=dict(in_channels=128, ppm=dict(norm_cfg=norm_cfg)))
