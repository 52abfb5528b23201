# PixPro / BYOL asymmetric view pipelines (2x224), with depth carried through the
# geometric transforms (crop box recorded as `coord`, nearest for depth).
crop_size = 224
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

color_jitter = dict(
    type='RandomApply',
    transforms=[
        dict(
            type='RGBDColorJitter',
            brightness=0.4,
            contrast=0.4,
            saturation=0.2,
            hue=0.1)
    ],
    prob=0.8)
grayscale = dict(
    type='RandomGrayscale',
    prob=0.2,
    keep_channels=True,
    channel_weights=(0.114, 0.587, 0.2989))
view_pipeline1 = [
    dict(
        type='RGBDRandomResizedCrop',
        scale=crop_size,
        crop_ratio_range=(0.08, 1.)),
    dict(type='RGBDRandomFlip', prob=0.5),
    color_jitter,
    grayscale,
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=1.),
    dict(type='Solarize', thr=128, prob=0.),
]
view_pipeline2 = [
    dict(
        type='RGBDRandomResizedCrop',
        scale=crop_size,
        crop_ratio_range=(0.08, 1.)),
    dict(type='RGBDRandomFlip', prob=0.5),
    color_jitter,
    grayscale,
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
]
views = dict(
    type='RGBDMultiView',
    num_views=[1, 1],
    transforms=[view_pipeline1, view_pipeline2])

# Files on disk: image + depth loaded, then the two views, then packing.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepth'),
    views,
    dict(type='PackRGBDInputs'),
]
# 8 GPUs x 128 = 1024, PixPro's batch; each dataset config sets `dataset`.
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,  # as PixPro: every step has the full batch
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(pipeline=train_pipeline))
