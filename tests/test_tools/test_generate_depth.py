"""tools/generate_depth.py with tiny random transformers models, offline."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from helpers import load_script, tiny_depth_anything
from projects.depth_pixpro.datasets.depth_io import decode_depth_by_kind

transformers = pytest.importorskip('transformers')


@pytest.fixture(scope='module')
def tool():
    return load_script('tools/generate_depth.py')


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp('models')
    return dict(
        relative=tiny_depth_anything(root / 'relative'),
        metric=tiny_depth_anything(root / 'metric',
                                   depth_estimation_type='metric',
                                   max_depth=20))


@pytest.fixture
def rgb_dir(tmp_path):
    """3 images, two sizes, one in a sub-folder."""
    rng = np.random.default_rng(0)
    root = tmp_path / 'data' / 'rgb'
    (root / 'sub').mkdir(parents=True)
    for name, shape in (('a.png', (48, 64)), ('b.jpg', (48, 64)),
                        ('sub/c.png', (40, 40))):
        cv2.imwrite(str(root / name),
                    rng.integers(0, 255, (*shape, 3), dtype=np.uint8))
    (root / 'notes.txt').write_text('not an image')
    return str(root)


def _direct_prediction(tool, model_dir, img_path):
    model, processor = tool.load_local_model(model_dir, 'cpu')
    return tool.predict(model, processor, [tool.read_rgb(img_path)],
                        'cpu')[0]


def test_relative_model_round_trip_and_resume(tool, models, rgb_dir,
                                              tmp_path):
    from mmpretrain.registry import DATASETS
    out_dir = str(tmp_path / 'data' / 'depth')
    result = tool.main([rgb_dir, out_dir, '--model', models['relative'],
                        '--batch-size', '2'])
    assert result['depth_kind'] == 'affine' and result['predicted'] == 3
    for stem in ('a', 'b', 'sub/c'):
        assert osp.isfile(osp.join(out_dir, stem + '.png'))
    meta = json.load(open(osp.join(out_dir, 'a.json')))
    info = json.load(open(osp.join(out_dir, 'depth_info.json')))
    assert meta['depth_kind'] == info['depth_kind'] == 'affine'
    assert info['depth_filter']['mode'] == 'normalized'
    raw = cv2.imread(osp.join(out_dir, 'a.png'), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw.shape == (48, 64)
    assert raw.min() == 1 and raw.max() == 65535

    # the dataset + LoadDepth read it back with the kind and scale of the
    # folder's depth_info.json (no need to repeat them in the config)
    dataset = DATASETS.build(dict(
        type='RGBDFolderDataset', data_root=str(tmp_path / 'data'),
        img_dir='rgb', depth_dir='depth', img_suffix='.png',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadDepth')]))
    assert len(dataset) == 2  # a.png, sub/c.png
    sample = dataset[0]
    assert sample['depth_kind'] == 'affine'
    assert np.allclose(sample['depth'] * 65535, raw, atol=1e-2)
    # ... and the stored values are the model's prediction (quantised)
    pred = _direct_prediction(tool, models['relative'],
                              osp.join(rgb_dir, 'a.png'))
    step = (meta['max'] - meta['min']) / 65534
    assert np.abs(decode_depth_by_kind(raw, meta) - pred).max() <= step
    assert meta['max'] - meta['min'] > 0

    # resumable: nothing to do, then only the image whose JSON is missing
    mtime = os.path.getmtime(osp.join(out_dir, 'b.png'))
    assert tool.main([rgb_dir, out_dir, '--model',
                      models['relative']])['predicted'] == 0
    os.remove(osp.join(out_dir, 'sub', 'c.json'))
    assert tool.main([rgb_dir, out_dir, '--model',
                      models['relative']])['predicted'] == 1
    assert os.path.getmtime(osp.join(out_dir, 'b.png')) == mtime
    assert osp.isfile(osp.join(out_dir, 'sub', 'c.json'))


def test_metric_model_writes_millimetres(tool, models, rgb_dir, tmp_path):
    from projects.depth_pixpro.datasets.transforms import LoadDepth
    out_dir = str(tmp_path / 'metric')
    result = tool.main([rgb_dir, out_dir, '--model', models['metric'],
                        '--ext', '.png'])
    assert result['depth_kind'] == 'metric' and result['total'] == 2
    assert result['depth_scale'] == 1000
    png = osp.join(out_dir, 'a.png')
    loaded = LoadDepth()(dict(depth_map_path=png))  # default: PNG in mm
    assert loaded['depth_kind'] == 'metric'
    pred = _direct_prediction(tool, models['metric'],
                              osp.join(rgb_dir, 'a.png'))
    assert 0 < pred.min() and pred.max() < 20  # sigmoid * max_depth
    assert np.abs(loaded['depth'] - pred).max() <= 5e-4 + 1e-6
    # forcing the kind overrides the model's
    forced = tool.main([rgb_dir, str(tmp_path / 'forced'), '--model',
                        models['metric'], '--kind', 'scale_free'])
    assert forced['depth_kind'] == 'scale_free'


def test_clear_errors(tool, rgb_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match='local model directory'):
        tool.main([rgb_dir, str(tmp_path / 'o'), '--model',
                   str(tmp_path / 'missing')])
    with pytest.raises(FileNotFoundError, match='no image'):
        tool.main([str(tmp_path), str(tmp_path / 'o'), '--model', 'x',
                   '--ext', '.tif'])
    with pytest.raises(FileNotFoundError, match='does not exist'):
        tool.main([str(tmp_path / 'nope'), str(tmp_path / 'o'), '--model',
                   'x'])


def test_symlink_loops_listed_once(tool, rgb_dir):
    os.symlink('..', osp.join(rgb_dir, 'sub', 'up'))
    os.symlink('.', osp.join(rgb_dir, 'self'))
    assert tool.list_images(rgb_dir, ['.png', '.jpg']) == [
        'a.png', 'b.jpg', osp.join('sub', 'c.png')]


def test_output_inside_input_is_not_read_back(tool, models, rgb_dir):
    out_dir = osp.join(rgb_dir, 'depth')
    first = tool.main([rgb_dir, out_dir, '--model', models['relative']])
    assert first['total'] == 3 and first['predicted'] == 3
    again = tool.main([rgb_dir, out_dir, '--model', models['relative']])
    assert again['total'] == 3 and again['predicted'] == 0
    assert not osp.exists(osp.join(out_dir, 'depth'))
    with pytest.raises(ValueError, match='input folder'):
        tool.main([rgb_dir, rgb_dir + '/', '--model', models['relative']])


def test_other_kind_needs_overwrite(tool, models, rgb_dir, tmp_path):
    out_dir = str(tmp_path / 'depth')
    tool.main([rgb_dir, out_dir, '--model', models['relative'],
               '--ext', '.png'])
    png = osp.join(out_dir, 'a.png')
    before = cv2.imread(png, cv2.IMREAD_UNCHANGED)
    with pytest.raises(ValueError, match="'affine'.*--overwrite"):
        tool.main([rgb_dir, out_dir, '--model', models['relative'],
                   '--ext', '.png', '--kind', 'scale_free'])
    assert np.array_equal(cv2.imread(png, cv2.IMREAD_UNCHANGED), before)
    result = tool.main([rgb_dir, out_dir, '--model', models['relative'],
                        '--ext', '.png', '--kind', 'scale_free',
                        '--overwrite'])
    assert result['depth_kind'] == 'scale_free' and result['predicted'] == 2
    for stem in ('a', 'sub/c'):
        meta = json.load(open(osp.join(out_dir, stem + '.json')))
        assert meta['depth_kind'] == 'scale_free'
    info = json.load(open(osp.join(out_dir, 'depth_info.json')))
    assert info['depth_kind'] == 'scale_free'
