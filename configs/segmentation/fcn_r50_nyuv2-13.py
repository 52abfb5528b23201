# FCN-R50-D8 on NYU Depth v2, 13 classes (label13/); otherwise as
# fcn_r50_nyuv2-40.py.
_base_ = './fcn_r50_nyuv2-40.py'
num_classes = 13
model = dict(
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=dict(type='NYUv2Seg13Dataset'))
val_dataloader = dict(dataset=dict(type='NYUv2Seg13Dataset'))
test_dataloader = val_dataloader
