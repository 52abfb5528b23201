# Cityscapes leftImg8bit + disparity + camera -> metric depth (z = b fx / d).
# Prepare: README, "Datasets".
_base_ = ['./rgbd_views_224.py']
data_root = 'data/cityscapes/'
train_dataloader = dict(
    dataset=dict(
        type='CityscapesRGBDDataset',
        data_root=data_root,
        split=['train', 'train_extra']))
