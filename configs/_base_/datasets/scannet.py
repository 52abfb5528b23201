# ScanNet frames (reader.py export or scannet_frames_25k) with 16-bit mm depth.
# Prepare: README, "Datasets" (tools/dataset_converters/scannet_sens.py).
_base_ = ['./rgbd_views_224.py']
data_root = 'data/scannet/frames/'
train_dataloader = dict(
    dataset=dict(
        type='ScanNetRGBDDataset',
        data_root=data_root,
        split_file=None,
        frame_step=1))
