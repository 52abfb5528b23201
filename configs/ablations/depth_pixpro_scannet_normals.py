# Beyond the paper: depth filter + surface-normal filter (pairs whose normals
# differ by more than 30 degrees are not positives).
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    head=dict(filters=[
        dict(type='DepthPairFilter', thresh=0.1, mode='relative',
             invalid='pass'),
        dict(type='NormalPairFilter', max_angle_deg=30., invalid='pass'),
    ]))
