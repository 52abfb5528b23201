"""Crop boxes (``coord``): the one owner of the geometry between a view's
pixels and the original image, in PixPro's convention (design.md).

A view is the crop ``coord = [x_ul, y_ul, x_lr, y_lr]`` of the image given
to the view pipeline, normalised to [0, 1]; a horizontal flip swaps
``x_ul`` and ``x_lr`` (:func:`flip_coord`), and everything here takes a
flipped box as it is. Two pixel conventions meet here, both PixPro's:

* writing a box (the data pipeline, numpy): its corners are the CENTRES of
  its first and last pixels, ``x / (W - 1)``, ``y / (H - 1)``
  (:func:`crop_box_to_coord`); a box cropped from a view is composed with
  the view's box (:func:`compose_coord`);
* reading a box (the model, torch): the box is cut into equal bins along
  each axis, bin k covering [k, k + 1) of ``(x_lr - x_ul) / n`` from
  ``x_ul``, its centre at k + 0.5: :func:`bin_sizes` and
  :func:`grid_centers` on a feature grid, :func:`pixel_centers` on a view's
  (or a canvas') pixels, and :func:`pixel_index`, the bin of a point.
  Pixel ``h * W + w`` of a flattened map (``tensor.flatten(2)``) is bin
  (h, w).
"""
from typing import Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

__all__ = [
    'FULL_COORD', 'compose_coord', 'crop_box_to_coord', 'flip_coord',
    'bin_sizes', 'grid_centers', 'pixel_centers', 'pixel_index'
]

# ------------------------------------------------------- writing (numpy)
#: The coord of an uncropped, unflipped image.
FULL_COORD = np.array([0., 0., 1., 1.], dtype=np.float32)


def compose_coord(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Express a box given relative to a view in the view's parent frame.

    Args:
        outer (np.ndarray): [4] coord of the current view in its parent.
        inner (np.ndarray): [4] coord of a new box relative to the current
            view (both PixPro convention; flipped boxes allowed).

    Returns:
        np.ndarray: [4] float32 coord of the new box in the parent frame.
    """
    outer = np.asarray(outer, dtype=np.float64)
    inner = np.asarray(inner, dtype=np.float64)
    x = outer[0] + inner[[0, 2]] * (outer[2] - outer[0])
    y = outer[1] + inner[[1, 3]] * (outer[3] - outer[1])
    return np.array([x[0], y[0], x[1], y[1]], dtype=np.float32)


def crop_box_to_coord(top: int, left: int, height: int, width: int,
                      img_h: int, img_w: int) -> np.ndarray:
    """PixPro coord of the pixel box ``[top, top+height) x [left,
    left+width)`` of an ``img_h x img_w`` image."""
    return np.array([
        left / max(img_w - 1, 1), top / max(img_h - 1, 1),
        (left + width - 1) / max(img_w - 1, 1),
        (top + height - 1) / max(img_h - 1, 1)
    ],
                    dtype=np.float32)

def flip_coord(coord: np.ndarray) -> np.ndarray:
    """The coord of a view after a horizontal flip: ``x_ul``, ``x_lr``
    swapped."""
    return np.asarray(coord)[[2, 1, 0, 3]]


# -------------------------------------------------------- reading (torch)
def _check_coord(coord: Tensor) -> None:
    if coord.dim() != 2 or coord.size(-1) != 4:
        raise ValueError('coord must be [N, 4] = [x_ul, y_ul, x_lr, y_lr], '
                         f'got shape {tuple(coord.shape)}')


def bin_sizes(coord: Tensor, size: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """Signed width and height of one bin of each crop.

    Args:
        coord (Tensor): Crop boxes [N, 4].
        size (Sequence[int]): Grid size (H, W).

    Returns:
        tuple[Tensor, Tensor]: ``bw, bh``, each [N]; ``bw`` is negative for
        a flipped view.
    """
    _check_coord(coord)
    height, width = size
    coord = coord.float()
    bw = (coord[:, 2] - coord[:, 0]) / width
    bh = (coord[:, 3] - coord[:, 1]) / height
    return bw, bh


def grid_centers(coord: Tensor, size: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """Centres of the bins of each crop in original-image coordinates.

    Args:
        coord (Tensor): Crop boxes [N, 4].
        size (Sequence[int]): Grid size (H, W).

    Returns:
        tuple[Tensor, Tensor]: ``cx, cy``, each [N, H*W] in h-major order.
    """
    height, width = size
    bw, bh = bin_sizes(coord, size)
    coord = coord.float()
    ws = torch.arange(width, device=coord.device, dtype=torch.float32) + 0.5
    hs = torch.arange(height, device=coord.device, dtype=torch.float32) + 0.5
    cx = ws[None, :] * bw[:, None] + coord[:, 0:1]  # [N, W]
    cy = hs[None, :] * bh[:, None] + coord[:, 1:2]  # [N, H]
    cx = cx[:, None, :].expand(-1, height, -1).reshape(coord.size(0), -1)
    cy = cy[:, :, None].expand(-1, -1, width).reshape(coord.size(0), -1)
    return cx, cy


def pixel_centers(low: Tensor, span: Tensor, length: int) -> Tensor:
    """Centres of ``length`` equal bins of ``[low, low + span]`` per row.

    Args:
        low (Tensor): [N, 1] start (``span`` negative for a flipped box).
        span (Tensor): [N, 1] signed extent.
        length (int): Number of bins (pixels).

    Returns:
        Tensor: [N, length] in ``low``'s dtype.
    """
    steps = (torch.arange(length, dtype=low.dtype, device=low.device) +
             0.5) / length
    return low + steps[None] * span


def pixel_index(pos: Tensor, low: Tensor, high: Tensor,
                length: int) -> Tuple[Tensor, Tensor]:
    """The bin (pixel) holding each position along one axis of a box.

    Args:
        pos (Tensor): [N, ...] positions in the original image.
        low (Tensor): [N] box start along the axis (``x_ul`` / ``y_ul``).
        high (Tensor): [N] box end (``x_lr`` / ``y_lr``).
        length (int): Bins (pixels) of the box along the axis.

    Returns:
        tuple[Tensor, Tensor]: the index, long (clamped into the box), and
        whether the position lies in the box, bool; both ``pos``'s shape.
    """
    shape = (-1, ) + (1, ) * (pos.dim() - 1)
    u = (pos - low.view(shape)) / (high - low).view(shape)
    inside = (u >= 0) & (u <= 1)
    return (u * length).floor().clamp(0, length - 1).long(), inside
