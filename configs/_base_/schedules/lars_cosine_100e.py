# PixPro's schedule: LARS, lr = 1.0 x batch / 256 (4.0 at batch 1024),
# weight decay 1e-5 with BN and bias excluded, 5 warm-up epochs, cosine.
optimizer = dict(type='LARS', lr=4.0, momentum=0.9, weight_decay=1e-5)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            # BN of the ResNet block downsample branch
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))

max_epochs = 100
warmup_epochs = 5
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=0.,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)

# lr above is for a total batch of 1024 (8 GPUs x 128); --auto-scale-lr
# rescales it linearly to the actual total batch (PixPro: 1.0 x batch / 256).
auto_scale_lr = dict(base_batch_size=1024, enable=False)
