"""An unreadable file mid-epoch: the error names the sample's files."""
import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpretrain.registry import DATASETS
from projects.depth_pixpro.datasets.base_rgbd import SampleLoadError
from projects.depth_pixpro.datasets.depth_io import write_depth_png


def _folder(root):
    (root / 'rgb').mkdir()
    (root / 'depth').mkdir()
    for name in ('a', 'b', 'c'):
        cv2.imwrite(str(root / 'rgb' / f'{name}.png'),
                    np.full((16, 16, 3), 100, np.uint8))
        write_depth_png(str(root / 'depth' / f'{name}.png'),
                        np.full((16, 16), 2.0))
    (root / 'rgb' / 'b.png').write_bytes(b'')  # 0-byte image
    return root


def _dataset(root):
    init_default_scope('mmpretrain')
    return DATASETS.build(dict(
        type='RGBDFolderDataset', data_root=str(root), depth_kind='metric',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadDepth')]))


def test_zero_byte_image_names_the_sample(tmp_path):
    dataset = _dataset(_folder(tmp_path))
    assert dataset[0]['img'].shape == (16, 16, 3)
    with pytest.raises(SampleLoadError) as err:
        dataset[1]
    message = str(err.value)
    assert message.startswith('RGBDFolderDataset: cannot load sample 1 '
                              f'(image {tmp_path}/rgb/b.png, depth '
                              f'{tmp_path}/depth/b.png): error: ')
    assert '!buf.empty()' in message  # OpenCV's own words, kept
    assert dataset[2]['depth'].shape == (16, 16)


def test_errors_that_name_the_file_pass_unchanged(tmp_path):
    dataset = _dataset(_folder(tmp_path))
    (tmp_path / 'depth' / 'c.png').write_bytes(b'')
    with pytest.raises(ValueError, match='c.png') as err:
        dataset[2]
    assert not isinstance(err.value, SampleLoadError)
