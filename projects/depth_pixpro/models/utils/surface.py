"""Same-surface test: no depth edge between the centres of a pixel pair.

The relative depth test compares two depths; it rejects pairs far apart on
one slanted floor (a large depth difference, no edge) and keeps pairs across
a small step. This test walks the segment between the two bin centres in
the original image instead and looks for a jump: depth is sampled at
``num_samples`` evenly spaced points (both centres included) and the pair
fails if two neighbouring samples differ by ``tau`` or more, relative to the
larger one.

The original image's depth is read through the views: each view is a crop
of it (``coord``), so a point of the original image is looked up (nearest
pixel, never blended) in the query view if it lies in that crop, else in
the key view. Points in neither crop, or with invalid depth (0), are
unknown and skipped (the jump is measured between the known samples on
either side). Coordinates are PixPro's normalised [0, 1] image coordinates
(see ``grids.py``); a flipped view (``coord[0] > coord[2]``) is handled by
the same mapping.
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor

from .grids import grid_centers


def view_pixel_index(coord: Tensor, x: Tensor, y: Tensor,
                     view_hw: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """Pixel of a view containing points of the original image.

    Args:
        coord (Tensor): [N, 4] crop box of the view.
        x (Tensor): [N, ...] x of the points, normalised original-image
            coordinates.
        y (Tensor): Same shape as ``x``.
        view_hw (Sequence[int]): (h, w) of the view's depth map.

    Returns:
        tuple[Tensor, Tensor]: ``index`` long (flat ``row * w + col``) and
        ``inside`` bool (the point lies in the crop), both shaped as ``x``.
    """
    h, w = (int(s) for s in view_hw)
    shape = (-1, ) + (1, ) * (x.dim() - 1)
    coord = coord.to(x.dtype)
    u = (x - coord[:, 0].view(shape)) / (coord[:, 2] - coord[:, 0]).view(shape)
    v = (y - coord[:, 1].view(shape)) / (coord[:, 3] - coord[:, 1]).view(shape)
    inside = (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
    col = (u * w).floor().clamp(0, w - 1).long()
    row = (v * h).floor().clamp(0, h - 1).long()
    return row * w + col, inside


def sample_view_depth(depth: Tensor, coord: Tensor, x: Tensor,
                      y: Tensor) -> Tuple[Tensor, Tensor]:
    """Depth of a view at points of the original image.

    Args:
        depth (Tensor): [N, h, w] depth of the view, 0 = invalid.
        coord (Tensor): [N, 4] crop box of the view.
        x (Tensor): [N, ...] normalised original-image x of the points.
        y (Tensor): Same shape as ``x``.

    Returns:
        tuple[Tensor, Tensor]: depth shaped as ``x`` (0 = outside the crop
        or invalid) and ``inside`` bool (the point lies in the crop).
    """
    index, inside = view_pixel_index(coord, x, y, depth.shape[1:])
    flat = torch.nan_to_num(depth.to(x.dtype), nan=0.).clamp(min=0.)
    z = flat.flatten(1).gather(1, index.flatten(1)).view_as(x)
    return torch.where(inside, z, torch.zeros_like(z)), inside


def max_relative_jump(samples: Tensor) -> Tuple[Tensor, Tensor]:
    """Largest relative jump between neighbouring known samples.

    Args:
        samples (Tensor): [..., S] depth along each segment, 0 = unknown
            (skipped: the jump is taken to the previous known sample).

    Returns:
        tuple[Tensor, Tensor]: ``jump`` [...] (0 without two known samples)
        and ``valid`` bool [...] (both end samples are known).
    """
    known = samples > 0
    steps = torch.arange(samples.size(-1), device=samples.device)
    last = torch.where(known, steps, torch.full_like(steps, -1)).cummax(
        dim=-1).values
    prev = last[..., :-1]  # last known sample before each later sample
    z_prev = samples.gather(-1, prev.clamp(min=0))
    z_next = samples[..., 1:]
    pair = known[..., 1:] & (prev >= 0)
    jump = (z_next - z_prev).abs() / torch.maximum(z_next, z_prev).clamp(
        min=1e-12)
    jump = torch.where(pair, jump, torch.zeros_like(jump))
    return jump.amax(dim=-1), known[..., 0] & known[..., -1]


def segment_depth_jump(depth_q: Tensor, coord_q: Tensor, depth_k: Tensor,
                       coord_k: Tensor, size: Sequence[int],
                       num_samples: int = 16) -> Tuple[Tensor, Tensor]:
    """Largest relative depth jump between the bin centres of every pair.

    Args:
        depth_q (Tensor): [N, h, w] depth of the query view, 0 = invalid.
        coord_q (Tensor): [N, 4] crop box of the query view.
        depth_k (Tensor): [N, h', w'] depth of the key view.
        coord_k (Tensor): [N, 4] crop box of the key view.
        size (Sequence[int]): Feature grid (H, W) of both views.
        num_samples (int): Samples per segment, both centres included.

    Returns:
        tuple[Tensor, Tensor]: ``jump`` [N, HW, HW] (query bins along dim
        1) and ``valid`` bool [N, HW, HW]: both centres have a depth.
    """
    if num_samples < 2:
        raise ValueError(f'num_samples must be >= 2, got {num_samples}')
    dtype = depth_q.dtype if depth_q.is_floating_point() else torch.float32
    qx, qy, kx, ky = (c.to(dtype) for c in (*grid_centers(coord_q, size),
                                            *grid_centers(coord_k, size)))
    t = torch.linspace(0., 1., num_samples, dtype=dtype,
                       device=depth_q.device)
    # [N, HW_q, HW_k, S]: points from each query centre to each key centre
    x = qx[:, :, None, None] + t * (kx[:, None, :, None] -
                                    qx[:, :, None, None])
    y = qy[:, :, None, None] + t * (ky[:, None, :, None] -
                                    qy[:, :, None, None])
    z_q, in_q = sample_view_depth(depth_q, coord_q, x, y)
    z_k, _ = sample_view_depth(depth_k, coord_k, x, y)
    samples = torch.where(in_q, z_q, z_k)
    return max_relative_jump(samples)
