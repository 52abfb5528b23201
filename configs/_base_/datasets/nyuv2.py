# NYU Depth v2 (tools/dataset_converters/nyu_mat.py layout, or the nyuv2_mini
# layout rgb/ depth/ [unlabeled/]). Prepare: README, "Datasets".
_base_ = ['./rgbd_views_224.py']
data_root = 'data/nyuv2/'
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
        type='NYUv2RGBDDataset',
        data_root=data_root,
        split='train',
        include_unlabeled=True,
        pipeline=train_pipeline))
