# NYU Depth v2, 13 classes (label13/), same layout and split as nyuv2_40.py.
_base_ = './nyuv2_40.py'
train_dataloader = dict(dataset=dict(type='NYUv2Seg13Dataset'))
val_dataloader = dict(dataset=dict(type='NYUv2Seg13Dataset'))
test_dataloader = val_dataloader
