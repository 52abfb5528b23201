# Ablation: relative depth threshold tau = 0.05 (default 0.1).
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    head=dict(filters=[
        dict(type='DepthPairFilter', thresh=0.05, mode='relative',
             invalid='pass')
    ]))
