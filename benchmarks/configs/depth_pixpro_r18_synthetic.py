# Quality experiment, DepthPixPro arm (depth filter + 3 scales): the CPU demo
# config (configs/depth_pixpro_synthetic.py) with every checkpoint kept. Same
# budget, data and optimiser as pixpro_r18_synthetic.py; only the loss's
# positive pairs differ.
_base_ = ['../../configs/depth_pixpro_synthetic.py']
train_dataloader = dict(num_workers=0, persistent_workers=False)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=-1))
custom_hooks = []  # no online probe: quality.py evaluates the checkpoints
