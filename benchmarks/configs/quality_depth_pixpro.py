# Quality benchmark, arm "depth_pixpro": the paper's method, the relative
# depth test (|z_i - z_j| / max(z_i, z_j) < 0.1) on top of the three scales
# (the model's defaults, configs/_base_/models/depth_pixpro_r50.py).
_base_ = ['./quality_base.py']
