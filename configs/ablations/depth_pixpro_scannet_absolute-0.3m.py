# Ablation: absolute depth test, |z_i - z_j| < 0.3 m.
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    head=dict(filters=[
        dict(type='DepthPairFilter', thresh=0.3, mode='absolute',
             invalid='pass')
    ]))
