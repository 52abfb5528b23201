"""generate_depth.py and EXIF-rotated JPEGs: batched by the size they are
read at, depth written in that (displayed) orientation, and said so."""
import json

import cv2
import numpy as np
import pytest

transformers = pytest.importorskip('transformers')
from PIL import Image  # noqa: E402

from helpers import load_script, tiny_depth_anything  # noqa: E402

EXIF_ORIENTATION = 0x0112


@pytest.fixture(scope='module')
def tool():
    return load_script('tools/generate_depth.py')


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
    """A tiny random Depth Anything whose processor keeps the aspect ratio
    (as the published ones): images of two shapes cannot share a batch."""
    return tiny_depth_anything(tmp_path_factory.mktemp('model'),
                               keep_aspect_ratio=True)


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
