# Ablation: pairs with an invalid (missing) depth are not positives.
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    head=dict(filters=[
        dict(type='DepthPairFilter', thresh=0.1, mode='relative',
             invalid='reject')
    ]))
