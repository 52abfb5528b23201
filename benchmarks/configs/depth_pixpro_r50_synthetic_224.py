# GPU check (benchmarks/gpu_check.sh): the ResNet-50 recipe
# (configs/depth_pixpro_scannet.py: SyncBN, LARS with --auto-scale-lr, depth
# filter + 3 scales, PixPro's 2x224 views) on the synthetic rooms rendered
# at 224x224 instead of ScanNet, one GPU at batch 64, one epoch of 200
# iterations with the warm-up + cosine schedule fitted to it.
#   bash tools/dist_train.sh benchmarks/configs/depth_pixpro_r50_synthetic_224.py 1
_base_ = ['../../configs/depth_pixpro_scannet.py']
batch_size = 64
iters = 200
warmup = 20
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=12,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type='SyntheticRGBDDataset',
        num_samples=batch_size * iters,
        img_size=224,
        seed=0,
        difficulty=0.5,
        pipeline=[{{_base_.views}}, dict(type='PackRGBDInputs')]))
train_cfg = dict(max_epochs=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=warmup),
    dict(type='CosineAnnealingLR', T_max=iters - warmup, eta_min=1e-6,
         by_epoch=False, begin=warmup, end=iters),
]
auto_scale_lr = dict(base_batch_size=1024, enable=True)  # lr 4.0 x 64/1024
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=10, save_last=False))  # no checkpoint: 1 epoch
log_processor = dict(window_size=10)
