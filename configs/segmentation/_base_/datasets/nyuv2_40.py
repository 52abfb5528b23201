# NYU Depth v2, 40 classes, official 795 train / 654 test split, in the layout
# written by tools/dataset_converters/nyu_mat.py (rgb/, depth/, label40/,
# label13/, splits/{train,test}.txt). Frames are 640x480.
_base_ = './indoor_640x480.py'
dataset_type = 'NYUv2SegDataset'
data_root = 'data/nyuv2/'
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
test_dataloader = val_dataloader
