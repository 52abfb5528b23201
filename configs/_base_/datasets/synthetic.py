# The embedded default: ray-cast RGB-D rooms rendered on the fly (no files).
# CPU-sized: 128x128 renders, 64x64 crops; otherwise PixPro's asymmetric views.
_base_ = ['./rgbd_views_224.py']
crop_size = 64
view_pipeline1 = [
    dict(
        type='RGBDRandomResizedCrop',
        scale=crop_size,
        crop_ratio_range=(0.2, 1.)),
    dict(type='RGBDRandomFlip', prob=0.5),
    {{_base_.color_jitter}},
    {{_base_.grayscale}},
    dict(type='GaussianBlur', magnitude_range=(0.1, 1.0),
         magnitude_std='inf', prob=1.),
]
view_pipeline2 = [
    dict(
        type='RGBDRandomResizedCrop',
        scale=crop_size,
        crop_ratio_range=(0.2, 1.)),
    dict(type='RGBDRandomFlip', prob=0.5),
    {{_base_.color_jitter}},
    {{_base_.grayscale}},
    dict(type='GaussianBlur', magnitude_range=(0.1, 1.0),
         magnitude_std='inf', prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
]
views = dict(
    type='RGBDMultiView',
    num_views=[1, 1],
    transforms=[view_pipeline1, view_pipeline2])
# rendered in memory: no loading steps (a dataset of files needs them, as in
# rgbd_views_224.py and depth_pixpro_resnet18_1xb16-sgd-coslr-100iter_nyuv2-mini.py)
train_pipeline = [views, dict(type='PackRGBDInputs')]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    drop_last=False,  # tiny datasets in tests and demos keep their samples
    dataset=dict(
        type='SyntheticRGBDDataset',
        num_samples=2048,
        img_size=128,
        seed=0,
        difficulty=0.5,
        pipeline=train_pipeline))
