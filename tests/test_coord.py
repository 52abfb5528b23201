"""The crop-box geometry (projects/depth_pixpro/coord.py) by hand: writing
a box (pixel centres over W - 1), flipping it, and reading it (bins)."""
import numpy as np
import torch

from projects.depth_pixpro.coord import (FULL_COORD, crop_box_to_coord,
                                         flip_coord, grid_centers,
                                         pixel_centers, pixel_index)


def test_written_corners_are_pixel_centres_over_w_minus_1():
    # pixels 2..5 of 11 columns, rows 0..9 of 21
    np.testing.assert_allclose(crop_box_to_coord(0, 2, 10, 4, 21, 11),
                               [0.2, 0., 0.5, 0.45])
    np.testing.assert_array_equal(crop_box_to_coord(0, 0, 5, 7, 5, 7),
                                  FULL_COORD)
    np.testing.assert_array_equal(flip_coord([0.1, 0.2, 0.7, 0.9]),
                                  [0.7, 0.2, 0.1, 0.9])


def test_read_bins_of_a_box_and_of_its_flip():
    coord = torch.tensor([[0.2, 0.0, 0.6, 0.8]])
    cx, cy = grid_centers(coord, (2, 4))
    torch.testing.assert_close(cx[0, :4], torch.tensor([.25, .35, .45, .55]))
    torch.testing.assert_close(cy[0, ::4], torch.tensor([.2, .6]))
    flipped = torch.tensor([[0.6, 0.0, 0.2, 0.8]])
    fx, _ = grid_centers(flipped, (2, 4))
    torch.testing.assert_close(fx[0, :4], cx[0, :4].flip(0))  # mirrored
    # a view's pixels are bins too; the bin of each centre is the pixel
    centres = pixel_centers(coord[:, :1], coord[:, 2:3] - coord[:, :1], 4)
    torch.testing.assert_close(centres, cx[:, :4])
    index, inside = pixel_index(centres, coord[:, 0], coord[:, 2], 4)
    assert index.tolist() == [[0, 1, 2, 3]] and inside.all()
    index, inside = pixel_index(torch.tensor([[0.1, 0.59, 0.7]]),
                                coord[:, 0], coord[:, 2], 4)
    assert index.tolist() == [[0, 3, 3]]  # clamped into the box
    assert inside.tolist() == [[False, True, False]]
    index, _ = pixel_index(fx[:, :4], flipped[:, 0], flipped[:, 2], 4)
    assert index.tolist() == [[0, 1, 2, 3]]  # a flipped view's own pixels
