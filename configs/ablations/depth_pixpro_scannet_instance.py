# PixPro's "+instance" branch on top of DepthPixPro, as in
# contrast/models/PixPro.py: every C5 pixel is projected by a conv MLP (1x1
# convs with biases, SyncBN, 2048 -> 4096 -> 256: `instance_neck`) and
# predicted per pixel by another (256 -> 4096 -> 256), then average-pooled
# (`PooledPixelProjector`); the momentum target's projection is
# average-pooled. Loss: PixPro's regression loss -2 cos(p, z') over both view
# orders (CosineSimilarityLoss with shift 0, scale 2), weight 1
# (--pixpro-ins-loss-weight).
_base_ = ['../depth_pixpro_scannet.py']
model = dict(
    instance_neck=dict(
        type='PixelProjector', in_channels=[2048], hid_channels=4096,
        out_channels=256, norm_cfg={{_base_.norm_cfg}}),
    instance_head=dict(
        type='LatentPredictHead',
        predictor=dict(
            type='PooledPixelProjector', in_channels=[256], hid_channels=4096,
            out_channels=256, norm_cfg={{_base_.norm_cfg}}),
        loss=dict(type='CosineSimilarityLoss', shift_factor=0.,
                  scale_factor=2.)),
    instance_loss_weight=1.)
