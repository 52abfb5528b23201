# PixPro baseline for the synthetic CPU demo: no depth filter, one scale.
_base_ = ['./depth_pixpro_resnet18_1xb16-sgd-coslr-300iter_synthetic.py']
model = dict(
    head=dict(
        filters=[], scales=[dict(level=-1, spatial_thresh=0.7, weight=1.)]))
