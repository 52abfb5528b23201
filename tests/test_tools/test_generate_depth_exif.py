"""generate_depth.py and EXIF-rotated JPEGs: batched by the size they are
read at, depth written in that (displayed) orientation, and said so."""
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest

transformers = pytest.importorskip('transformers')
from PIL import Image  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EXIF_ORIENTATION = 0x0112


@pytest.fixture(scope='module')
def tool():
    path = osp.join(REPO, 'tools', 'generate_depth.py')
    spec = importlib.util.spec_from_file_location('generate_depth', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
    """A tiny random Depth Anything whose processor keeps the aspect ratio
    (as the published ones): images of two shapes cannot share a batch."""
    import torch
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp('model')
    backbone = transformers.Dinov2Config(
        hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
        intermediate_size=32, patch_size=14, image_size=56,
        out_features=['stage1', 'stage2', 'stage3', 'stage4'],
        reshape_hidden_states=False)
    config = transformers.DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=16,
        neck_hidden_sizes=[8] * 4, fusion_hidden_size=8, head_hidden_size=8)
    transformers.DepthAnythingForDepthEstimation(config).save_pretrained(
        folder)
    transformers.DPTImageProcessor(
        size={'height': 56, 'width': 56}, ensure_multiple_of=14,
        keep_aspect_ratio=True).save_pretrained(folder)
    return str(folder)


def _write(path, shape, orientation=None):
    rng = np.random.default_rng(len(str(path)))
    image = Image.fromarray(rng.integers(0, 255, (*shape, 3), np.uint8))
    exif = image.getexif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    image.save(path, exif=exif.tobytes())


def test_exif_rotated_images_batch_by_their_displayed_size(tool, model_dir,
                                                           tmp_path, capsys):
    rgb = tmp_path / 'rgb'
    rgb.mkdir()
    # stored 48x64 (HxW) each; 'r' is shown rotated by 90 degrees (64x48),
    # as OpenCV and mmcv's LoadImageFromFile read it
    _write(rgb / 'a.jpg', (48, 64))
    _write(rgb / 'b.jpg', (48, 64))
    _write(rgb / 'r.jpg', (48, 64), orientation=6)
    assert cv2.imread(str(rgb / 'r.jpg')).shape == (64, 48, 3)
    out = tmp_path / 'depth'
    tool.main([str(rgb), str(out), '--model', model_dir, '--batch-size',
               '3'])
    for name, shape in (('a', (48, 64)), ('b', (48, 64)), ('r', (64, 48))):
        depth = cv2.imread(str(out / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        assert depth.shape == shape, name  # the image's, as read back
        meta = json.loads((out / f'{name}.json').read_text())
        assert meta['exif_orientation'] == (6 if name == 'r' else 1)
    printed = capsys.readouterr().out
    assert '1 image(s) carry an EXIF rotation (e.g. r.jpg)' in printed
    # the batches: one per displayed size
    batches = tool.batches_by_size(str(rgb), ['a.jpg', 'b.jpg', 'r.jpg'], 3)
    assert [sorted(b) for b in batches] == [['a.jpg', 'b.jpg'], ['r.jpg']]


def test_predict_takes_images_of_several_sizes(tool, model_dir):
    model, processor = tool.load_local_model(model_dir, 'cpu')
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, shape, np.uint8)
              for shape in ((28, 42, 3), (42, 28, 3), (28, 42, 3))]
    preds = tool.predict(model, processor, images, 'cpu')
    assert [p.shape for p in preds] == [(28, 42), (42, 28), (28, 42)]
    alone = tool.predict(model, processor, images[1:2], 'cpu')[0]
    np.testing.assert_allclose(preds[1], alone, rtol=1e-4, atol=1e-5)
