# ScanNet frames (reader.py export or scannet_frames_25k) with 16-bit mm depth.
# Prepare: README, "Datasets" (tools/dataset_converters/scannet_sens.py).
_base_ = ['./rgbd_views_224.py']
data_root = 'data/scannet/frames/'
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
        type='ScanNetRGBDDataset',
        data_root=data_root,
        split_file=None,
        frame_step=1,
        pipeline=train_pipeline))
