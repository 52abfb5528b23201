# PixPro's schedule (tools/pixpro_base_r50_100ep.sh): LARS, lr = 1.0 x
# batch / 256 (4.0 at batch 1024), momentum 0.9, weight decay 1e-5; every 1-D
# parameter (biases, norm scales and shifts) has no weight decay and no LARS
# adaptation (Exclude1DParamsOptimWrapperConstructor, PixPro's
# `len(param.shape) == 1` rule); 5 warm-up epochs from lr / 100
# (--warmup-multiplier 100), then cosine to 1e-6, per iteration.
# PixProLARS: official PixPro's LARS (contrast/lars.py: trust ratio
# eta ||p|| / (||g + wd p|| + 1e-8), eta 1e-3, around torch's SGD).
optimizer = dict(type='PixProLARS', lr=4.0, momentum=0.9, weight_decay=1e-5)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    constructor='Exclude1DParamsOptimWrapperConstructor')

max_epochs = 100
warmup_epochs = 5
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=1e-6,  # absolute (mmengine), PixPro's end lr
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)

# lr above is for a total batch of 1024 (8 GPUs x 128); --auto-scale-lr
# rescales it linearly to the actual total batch (PixPro: 1.0 x batch / 256).
auto_scale_lr = dict(base_batch_size=1024, enable=False)
