# Quality experiment, "PixPro + 3 scales" arm: the DepthPixPro arm
# (depth_pixpro_r18_synthetic.py: scales T = 0.7, 1.4, 2.8, weights 1/3)
# without the depth filter, so only the multi-scale loss is added to PixPro.
_base_ = ['./depth_pixpro_r18_synthetic.py']
model = dict(head=dict(filters=[]))
