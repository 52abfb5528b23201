"""Atomic file writing (projects/depth_pixpro/utils/atomic.py): the old file
survives a failed write, no temporary file is left, images are encoded as
cv2.imwrite encodes them."""
import os

import cv2
import numpy as np
import pytest

from projects.depth_pixpro.utils.atomic import (atomic_write_bytes,
                                                remove_stale_temp_files,
                                                write_image_atomic)


def test_bytes_replace_the_file_and_leave_no_temp(tmp_path):
    path = tmp_path / 'sub' / 'out.txt'
    atomic_write_bytes('first', str(path))
    atomic_write_bytes(b'second', str(path))
    assert path.read_bytes() == b'second'
    assert os.listdir(tmp_path / 'sub') == ['out.txt']


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'out.txt'
    path.write_text('old')

    def killed(*args):
        raise KeyboardInterrupt('killed before the rename')

    monkeypatch.setattr(os, 'replace', killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes('new', str(path))
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['out.txt']  # the temporary file is gone


def test_stale_temp_files_are_recognised_by_name(tmp_path):
    names = ['.out.txt.0123abcd.tmp', 'out.txt', '.out.txt.tmp', 'x.tmp']
    for name in names:
        (tmp_path / name).write_text('x')
    removed = remove_stale_temp_files(str(tmp_path))
    assert [os.path.basename(p) for p in removed] == [names[0]]
    assert sorted(os.listdir(tmp_path)) == sorted(names[1:])
    assert remove_stale_temp_files(str(tmp_path / 'absent')) == []


def test_images_are_the_bytes_imwrite_writes(tmp_path):
    rng = np.random.default_rng(0)
    depth = rng.integers(0, 65536, (5, 7), dtype=np.uint16)
    colour = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    for name, image in (('d.png', depth), ('c.png', colour)):
        write_image_atomic(str(tmp_path / 'a' / name), image)
        cv2.imwrite(str(tmp_path / name), image)
        assert (tmp_path / 'a' / name).read_bytes() == \
            (tmp_path / name).read_bytes()
        back = cv2.imread(str(tmp_path / 'a' / name), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(back, image)
    write_image_atomic(str(tmp_path / 'q.jpg'), colour,
                       [cv2.IMWRITE_JPEG_QUALITY, 50])
    cv2.imwrite(str(tmp_path / 'r.jpg'), colour,
                [cv2.IMWRITE_JPEG_QUALITY, 50])
    assert (tmp_path / 'q.jpg').read_bytes() == \
        (tmp_path / 'r.jpg').read_bytes()
    with pytest.raises(OSError, match='could not encode .*x.nope'):
        write_image_atomic(str(tmp_path / 'x.nope'), colour)
    assert not (tmp_path / 'x.nope').exists()
