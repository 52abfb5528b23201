# ScanNet 2D semantic segmentation, 20 benchmark classes (scannet_frames_25k).
# data_root holds the scene folders and ScanNet's scene split files
# (Tasks/Benchmark/scannetv2_{train,val}.txt). Frames are 640x480; the
# benchmark evaluates at 640x480.
_base_ = './indoor_640x480.py'
dataset_type = 'ScanNet2DSegDataset'
data_root = 'data/scannet_frames_25k/'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root,
        ann_file='scannetv2_train.txt'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root,
        ann_file='scannetv2_val.txt'))
test_dataloader = val_dataloader
