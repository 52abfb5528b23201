# NYU Depth v2 (tools/dataset_converters/nyu_mat.py layout, or the nyuv2_mini
# layout rgb/ depth/ [unlabeled/]). Prepare: README, "Datasets".
_base_ = ['./rgbd_views_224.py']
data_root = 'data/nyuv2/'
train_dataloader = dict(
    dataset=dict(
        type='NYUv2RGBDDataset',
        data_root=data_root,
        split='train',
        include_unlabeled=True))
