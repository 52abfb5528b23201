# PixPro's "+ instance" variant on top of DepthPixPro: pooled projector +
# predictor with BYOL's loss (weight 1).
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    instance_neck=dict(
        type='NonLinearNeck', in_channels=2048, hid_channels=4096,
        out_channels=256, num_layers=2, with_avg_pool=True,
        norm_cfg={{_base_.norm_cfg}}),
    instance_head=dict(
        type='LatentPredictHead',
        predictor=dict(
            type='NonLinearNeck', in_channels=256, hid_channels=4096,
            out_channels=256, num_layers=2, with_avg_pool=False,
            norm_cfg={{_base_.norm_cfg}}),
        loss=dict(type='CosineSimilarityLoss')),
    instance_loss_weight=1.)
