"""Same-surface test: no depth edge between the centres of a pixel pair.

The relative depth test compares two depths; it rejects pairs far apart on
one slanted floor (a large depth difference, no edge) and keeps pairs across
a small step. This test walks the segment between the two bin centres in
the original image instead and looks for a jump: depth is sampled at
``num_samples`` evenly spaced points (both centres included) and the pair
fails if a step between neighbouring samples departs from the segment's
own trend by ``tau`` or more, relative to the larger depth
(:func:`max_surface_jump`). The trend is that of a plane: inverse depth is
affine along any image segment on a plane, so a receding floor changes it
by the same amount at every step and passes at any segment length, where a
plain relative jump between neighbouring samples would grow with the
segment's length (with 16 samples a floor whose depth doubles along the
segment failed tau 0.05).

The original image's depth is read through the views: each view is a crop
of it (``coord``), so the bounding box of both crops is rebuilt on a small
canvas (``canvas_size`` squared), each canvas pixel looked up (nearest,
never blended) in the query view if its centre lies in that crop, else in
the key view (at its pixel nearest to it if in neither crop, rare for
spatial positives); the samples read the canvas (nearest). Samples with
invalid depth (0) are skipped (a step is measured between the known samples
on either side, over as many sample spacings as it spans).
Coordinates are PixPro's normalised [0, 1] image coordinates (see
``coord.py``); a flipped view (``coord[0] > coord[2]``) is handled by the
same mapping.

Cost: the log of the depth is taken once per canvas pixel; bin centres
vary along x with the column only and along y with the row only, so sample
coordinates and canvas pixels are computed per axis ([N, W, W, S] and
[N, H, H, S]); the [N, S, HW, HW] tensors are the canvas index, one gather,
and the steps with their trend (a median over the S samples).
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from ...coord import grid_centers, pixel_centers, pixel_index


def log_depth(depth: Tensor) -> Tensor:
    """Log of a depth map, ``-inf`` where invalid (0, NaN, negative, inf).

    Args:
        depth (Tensor): Depth, any shape.

    Returns:
        Tensor: Floating tensor of the same shape.
    """
    depth = depth if depth.is_floating_point() else depth.float()
    return torch.nan_to_num(depth, nan=0., posinf=0.,
                            neginf=0.).clamp(min=0.).log()


def max_surface_jump(samples: Tensor,
                     dim: int = -1,
                     inverse: Optional[Tensor] = None
                     ) -> Tuple[Tensor, Tensor]:
    """Largest relative depth jump along each segment beyond its own trend.

    On a plane, inverse depth ``q = 1 / z`` is an affine function of the
    image position, so along a segment sampled at equal steps it changes by
    the same amount at every step, however long the segment is; a depth
    edge is one step that breaks this. Each step between neighbouring known
    samples (``dq`` over ``k`` sample spacings, across unknown samples) is
    compared with the trend of the REST of the segment: the change from its
    first to its last known sample (``D`` over ``K`` spacings) without the
    step itself, ``m = (D - dq) / (K - k)``, and measured relative to the
    larger depth: ``|dq - k m| / max(q_a, q_b) = |dq K - k D| / ((K - k)
    max(q_a, q_b))``. On a plane this is 0 at any length and slant (up to
    the nearest-pixel sampling); for one edge on a plane it is the edge's
    plain relative jump ``|z_a - z_b| / max(z_a, z_b)``, which is also what
    a segment of one step gets.

    The samples are walked once (S steps, vectorised over all segments)
    after one pass for each segment's first and last known sample: no sort,
    no read-back from the device.

    Args:
        samples (Tensor): Log-depth along each segment (samples along
            ``dim``), ``-inf`` = unknown (:func:`log_depth`).
        dim (int): The sample dimension. Defaults to -1.
        inverse (Tensor, optional): bool, broadcastable to ``samples``
            without ``dim``: the samples are inverse depth (the ``'inverse'``
            kind), which is itself affine on a plane. Defaults to None (all
            are depth up to a scale).

    Returns:
        tuple[Tensor, Tensor]: ``jump`` (0 without two known samples) and
        ``valid`` bool (both end samples known); ``samples``' shape without
        ``dim``.
    """
    # samples leading and contiguous: each step of the walk reads a block
    samples = samples.movedim(dim, 0).contiguous()
    num = samples.size(0)
    known = samples > -float('inf')  # log_depth: finite or -inf
    valid = known[0] & known[-1]
    log_q = -samples if inverse is None else torch.where(
        inverse.unsqueeze(0), samples, -samples)
    q = torch.where(known, log_q, torch.zeros_like(log_q)).exp()
    # No hole on any segment: every step is one spacing, the segment runs
    # from its first to its last sample. The check reads a value back from
    # the device, so it is skipped off the CPU (the walk below gives the
    # same result without synchronising).
    if samples.device.type == 'cpu' and bool(known.all()):
        length = num - 1
        dq = q[1:] - q[:-1]
        change = q[-1] - q[0]
        top = torch.maximum(q[1:], q[:-1])
        if length == 1:
            return (dq.abs() / top).amax(dim=0), valid
        return ((dq * length - change).abs() /
                ((length - 1) * top)).amax(dim=0), valid
    # the segment's first and last known samples: its change D over K
    position = torch.arange(num, dtype=q.dtype, device=q.device).view(
        (num, ) + (1, ) * (q.dim() - 1))
    first = torch.where(known, position, float(num)).amin(dim=0)
    last = torch.where(known, position, -1.).amax(dim=0)
    length = (last - first).clamp(min=0.)  # 0 if < 2 known
    change = q.gather(0, last.clamp(min=0.).long()[None])[0] - \
        q.gather(0, first.clamp(max=num - 1.).long()[None])[0]
    # walk: each known sample's step from the last known one before it
    prev_q, prev_pos, seen = q[0], torch.zeros_like(q[0]), known[0]
    jump = torch.zeros_like(q[0])
    for index in range(1, num):
        dq, k = q[index] - prev_q, index - prev_pos
        rest = length - k
        # the rest of the segment's trend; none when this step is all of it
        trend = ((change - dq) / rest.clamp(min=1.)).masked_fill_(
            rest <= 0, 0.)
        off = (dq - k * trend).abs_().div_(torch.maximum(q[index], prev_q))
        torch.maximum(jump, off.masked_fill_(~(known[index] & seen), 0.),
                      out=jump)
        prev_q = torch.where(known[index], q[index], prev_q)
        prev_pos.masked_fill_(known[index], float(index))
        seen = seen | known[index]
    return jump, valid


def max_relative_jump(samples: Tensor) -> Tuple[Tensor, Tensor]:
    """:func:`max_surface_jump` of depth samples along the last dimension
    (0 = unknown)."""
    return max_surface_jump(log_depth(samples))


def _axis_samples(centre_q: Tensor, centre_k: Tensor, t: Tensor) -> Tensor:
    """[N, Lq, Lk, S] coordinate of every sample along one axis."""
    return centre_q[:, :, None, None] + t * (centre_k[:, None, :, None] -
                                             centre_q[:, :, None, None])


def _union_canvas(depth_q: Tensor, coord_q: Tensor, depth_k: Tensor,
                  coord_k: Tensor,
                  canvas_size: int) -> Tuple[Tensor, Tensor, Tensor]:
    """The original image's log-depth over the bounding box of both crops.

    Each of the ``R x R`` canvas pixels reads the query view's pixel at its
    centre if that lies in the query crop, else the key view's (its
    nearest pixel if in neither crop).

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``canvas`` [N, R * R] log-depth
        (:func:`log_depth`), and the box's ``low`` [N, 2] and ``span``
        [N, 2] (x, y) in normalised original-image coordinates.
    """
    dtype = depth_q.dtype if depth_q.is_floating_point() else torch.float32
    corners = torch.stack([coord_q, coord_k], dim=1).to(dtype)
    xs, ys = corners[..., 0::2].flatten(1), corners[..., 1::2].flatten(1)
    low = torch.stack([xs.amin(1), ys.amin(1)], dim=1)
    span = torch.stack([xs.amax(1), ys.amax(1)], dim=1) - low
    cx = pixel_centers(low[:, :1], span[:, :1], canvas_size)  # [N, R]
    cy = pixel_centers(low[:, 1:], span[:, 1:], canvas_size)
    values, inside_q = [], None
    for depth, coord in ((depth_q, coord_q), (depth_k, coord_k)):
        h, w = depth.shape[1:]
        coord = coord.to(dtype)
        col, in_x = pixel_index(cx, coord[:, 0], coord[:, 2], w)
        row, in_y = pixel_index(cy, coord[:, 1], coord[:, 3], h)
        pixel = row[:, :, None] * w + col[:, None, :]  # [N, R, R]
        values.append(depth.to(dtype).flatten(1).gather(1, pixel.flatten(1)))
        if inside_q is None:
            inside_q = (in_y[:, :, None] & in_x[:, None, :]).flatten(1)
    canvas = torch.where(inside_q, values[0], values[1])
    return log_depth(canvas), low, span


def segment_depth_jump(depth_q: Tensor,
                       coord_q: Tensor,
                       depth_k: Tensor,
                       coord_k: Tensor,
                       size: Sequence[int],
                       num_samples: int = 16,
                       canvas_size: int = 128,
                       inverse: Optional[Tensor] = None
                       ) -> Tuple[Tensor, Tensor]:
    """Largest relative depth jump (:func:`max_surface_jump`) between the
    bin centres of every pair.

    The depth of the original image over the bounding box of both crops
    is first put on a ``canvas_size`` squared canvas (each canvas pixel
    reads the query view if its centre is in the query crop, else the key
    view, at its nearest pixel if in neither crop); the samples read the
    canvas (nearest).

    Args:
        depth_q (Tensor): [N, h, w] depth of the query view, 0 = invalid.
        coord_q (Tensor): [N, 4] crop box of the query view.
        depth_k (Tensor): [N, h', w'] depth of the key view.
        coord_k (Tensor): [N, 4] crop box of the key view.
        size (Sequence[int]): Feature grid (H, W) of both views.
        num_samples (int): Samples per segment, both centres included.
        canvas_size (int): Canvas side R. Defaults to 128.
        inverse (Tensor, optional): bool [N]: the image's depth is inverse
            depth (kind ``'inverse'``). Defaults to None (none is).

    Returns:
        tuple[Tensor, Tensor]: ``jump`` [N, HW, HW] (query bins along dim
        1) and ``valid`` bool [N, HW, HW]: both centres have a depth.
    """
    if num_samples < 2:
        raise ValueError(f'num_samples must be >= 2, got {num_samples}')
    canvas, low, span = _union_canvas(depth_q, coord_q, depth_k, coord_k,
                                      canvas_size)
    dtype = canvas.dtype
    height, width = (int(s) for s in size)
    t = torch.linspace(0., 1., num_samples, dtype=dtype, device=canvas.device)
    qx, qy, kx, ky = (c.to(dtype) for c in (*grid_centers(coord_q, size),
                                            *grid_centers(coord_k, size)))
    xs = _axis_samples(qx[:, :width], kx[:, :width], t)  # [N, W, W, S]
    ys = _axis_samples(qy[:, ::width], ky[:, ::width], t)  # [N, H, H, S]
    col, _ = pixel_index(xs, low[:, 0], low[:, 0] + span[:, 0], canvas_size)
    row, _ = pixel_index(ys, low[:, 1], low[:, 1] + span[:, 1], canvas_size)
    # the one full-size index tensor, [N, S, Hq * Hk, Wq * Wk]: rows and
    # columns broadcast against each other, samples leading so that the
    # jumps run over contiguous slices
    num = canvas.size(0)
    pixel = (row * canvas_size).permute(0, 3, 1, 2).reshape(
        num, num_samples, height * height, 1) + \
        col.permute(0, 3, 1, 2).reshape(num, num_samples, 1, width * width)
    samples = canvas.gather(1, pixel.flatten(1)).view_as(pixel)
    # [N, Hq * Hk, Wq * Wk]
    jump, valid = max_surface_jump(
        samples, dim=1, inverse=None if inverse is None else
        inverse.to(samples.device)[:, None, None])
    hw = height * width
    shape = (num, height, height, width, width)
    return (jump.view(shape).permute(0, 1, 3, 2, 4).reshape(num, hw, hw),
            valid.view(shape).permute(0, 1, 3, 2, 4).reshape(num, hw, hw))
