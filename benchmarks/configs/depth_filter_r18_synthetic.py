# Quality experiment, "PixPro + depth filter" arm: the DepthPixPro arm
# (depth_pixpro_r18_synthetic.py: relative depth test, tau 0.1) with
# PixPro's single scale (T = 0.7, weight 1), so only the filter is added.
_base_ = ['./depth_pixpro_r18_synthetic.py']
model = dict(
    head=dict(scales=[dict(level=-1, spatial_thresh=0.7, weight=1.)]))
