# Short FCN-R18-D8 fine-tune for the quality experiment: the CPU benchmark
# (configs/segmentation/fcn_r18_synthetic_cpu.py) with 100 iterations and the
# validation once at the end (its metrics land in the training log).
_base_ = ['../../configs/segmentation/fcn_r18_synthetic_cpu.py']
max_iters = 100
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
# mIoU and boundary mIoU (pixels within 3 of a class boundary, 2 % of the
# 128x128 scenes' diagonal) from one metric
val_evaluator = dict(type='BoundaryIoUMetric', iou_metrics=['mIoU'], band=3)
test_evaluator = val_evaluator
