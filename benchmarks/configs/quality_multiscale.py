# Quality benchmark, arm "multiscale": the three spatial thresholds of
# DepthPixPro (T = 0.7, 1.4, 2.8, weights 1/3) without any filter: PixPro +
# the multi-scale loss alone, the reference of the depth arms.
_base_ = ['./quality_base.py']
model = dict(head=dict(filters=[]))
