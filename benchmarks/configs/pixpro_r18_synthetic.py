# Quality experiment, PixPro arm: the CPU demo config
# (configs/pixpro_synthetic.py) with every checkpoint kept, so that
# benchmarks/quality.py can evaluate the intermediate ones. The script sets
# the iterations (and the schedule that depends on them), the checkpoint
# interval, the seed and the renderer's difficulty with --cfg-options.
_base_ = ['../../configs/pixpro_synthetic.py']
train_dataloader = dict(num_workers=0, persistent_workers=False)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=-1))
custom_hooks = []  # no online probe: quality.py evaluates the checkpoints
