# Quality benchmark, arm "pixpro": PixPro's positive pairs (one spatial
# threshold T = 0.7, no filter) on the shared pretraining (quality_base.py).
_base_ = ['./quality_base.py']
model = dict(
    head=dict(
        filters=[], scales=[dict(level=-1, spatial_thresh=0.7, weight=1.)]))
