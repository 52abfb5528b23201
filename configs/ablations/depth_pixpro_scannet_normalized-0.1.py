# Ablation / monocular depth: per-image min-max normalised depth, |.| < 0.1.
# Use this mode for relative or inverse depth from tools/generate_depth.py.
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    head=dict(filters=[
        dict(type='DepthPairFilter', thresh=0.1, mode='normalized',
             invalid='pass')
    ]))
