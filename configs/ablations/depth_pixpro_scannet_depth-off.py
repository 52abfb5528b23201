# Ablation: multi-scale loss without the depth filter.
_base_ = ['../depth_pixpro_scannet.py']
model = dict(head=dict(filters=[]))
