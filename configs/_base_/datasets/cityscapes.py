# Cityscapes leftImg8bit + disparity + camera -> metric depth (z = b fx / d).
# Prepare: README, "Datasets".
_base_ = ['./rgbd_views_224.py']
data_root = 'data/cityscapes/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepth'),
    {{_base_.views}},
    dict(type='PackRGBDInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CityscapesRGBDDataset',
        data_root=data_root,
        split=['train', 'train_extra'],
        pipeline=train_pipeline))
