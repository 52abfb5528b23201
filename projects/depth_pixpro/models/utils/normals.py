"""Surface normals of a view from its depth, for the normal pair filter.

Approximation (documented in :class:`NormalPairFilter`): the original image
is assumed to come from a pinhole camera with its principal point at the
image centre, square pixels, a horizontal field of view ``fov_deg`` and an
aspect ratio ``aspect`` (W / H). A view's pixels are mapped back to the
original image through its crop box ``coord``, so rays, points and normals
are all expressed in the ORIGINAL camera frame: cropping and flipping change
nothing, and both views of a pair share one frame.
"""
import math
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ...coord import pixel_centers


def view_rays(coord: Tensor, view_size: Sequence[int], fov_deg: float = 60.,
              aspect: float = 4. / 3.) -> Tensor:
    """Camera rays (z = 1) of each pixel of each view, original frame.

    Args:
        coord (Tensor): Crop boxes [N, 4] (normalised, flip = swapped x).
        view_size (Sequence[int]): (h, w) of the view (the depth map).
        fov_deg (float): Horizontal field of view of the original image.
        aspect (float): Width / height of the original image.

    Returns:
        Tensor: float32 [N, 3, h, w].
    """
    height, width = view_size
    coord = coord.float()
    x = pixel_centers(coord[:, 0:1], coord[:, 2:3] - coord[:, 0:1],
                      width)  # [N, w]
    y = pixel_centers(coord[:, 1:2], coord[:, 3:4] - coord[:, 1:2],
                      height)  # [N, h]
    tan_x = math.tan(math.radians(fov_deg) / 2.)
    tan_y = tan_x / aspect
    rx = ((x - 0.5) * 2. * tan_x)[:, None, :].expand(-1, height, -1)
    ry = ((y - 0.5) * 2. * tan_y)[:, :, None].expand(-1, -1, width)
    return torch.stack([rx, ry, torch.ones_like(rx)], dim=1)


def depth_to_normals(depth: Tensor,
                     coord: Tensor,
                     fov_deg: float = 60.,
                     aspect: float = 4. / 3.,
                     max_rel_jump: float = 0.1) -> Tuple[Tensor, Tensor]:
    """Per-pixel unit normals from a depth map, facing the camera.

    Normals are the cross product of forward differences of the
    back-projected points. A pixel is invalid if it or its right/lower
    neighbour has no depth, or if the depth jumps by more than
    ``max_rel_jump`` (relative) to a neighbour: such differences straddle a
    depth edge and give no surface normal.

    Args:
        depth (Tensor): [N, h, w] depth, 0 = invalid.
        coord (Tensor): Crop boxes [N, 4] of the views.
        fov_deg (float): Horizontal field of view of the original image.
        aspect (float): Width / height of the original image.
        max_rel_jump (float): Largest relative depth step between
            neighbours that still counts as one surface.

    Returns:
        tuple[Tensor, Tensor]: normals float32 [N, 3, h, w] (0 where
        invalid) and valid bool [N, h, w].
    """
    if depth.dim() != 3:
        raise ValueError(f'depth must be [N, h, w], got {tuple(depth.shape)}')
    z = torch.nan_to_num(depth.float(), nan=0., posinf=0., neginf=0.)
    z = z.clamp(min=0.)
    rays = view_rays(coord, z.shape[-2:], fov_deg, aspect)
    points = rays * z[:, None]
    d_u = points[:, :, :-1, 1:] - points[:, :, :-1, :-1]
    d_v = points[:, :, 1:, :-1] - points[:, :, :-1, :-1]
    normals = torch.cross(d_u, d_v, dim=1)
    # Orient towards the camera: the sign of the cross product depends on
    # whether the view is flipped.
    facing = (normals * rays[:, :, :-1, :-1]).sum(1, keepdim=True)
    normals = torch.where(facing > 0, -normals, normals)
    normals = F.normalize(normals, dim=1)

    z0, z_u, z_v = z[:, :-1, :-1], z[:, :-1, 1:], z[:, 1:, :-1]
    valid = (z0 > 0) & (z_u > 0) & (z_v > 0)
    jump = torch.maximum((z_u - z0).abs(), (z_v - z0).abs())
    valid &= jump <= max_rel_jump * z0
    # Forward differences have no last row/column: pad them as invalid.
    valid = F.pad(valid, (0, 1, 0, 1), value=False)
    normals = F.pad(normals, (0, 1, 0, 1)) * valid[:, None]
    return normals, valid


def pool_normals(normals: Tensor, valid: Tensor,
                 size: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """Valid-aware mean of unit normals over each bin, renormalised.

    Args:
        normals (Tensor): [N, 3, h, w] unit normals (0 where invalid).
        valid (Tensor): bool [N, h, w].
        size (Sequence[int]): Grid size (H, W).

    Returns:
        tuple[Tensor, Tensor]: normals float32 [N, H*W, 3] and valid bool
        [N, H*W] (bins with at least one valid pixel).
    """
    size = tuple(int(s) for s in size)
    valid_f = valid.float()[:, None]
    summed = F.adaptive_avg_pool2d(normals * valid_f, size)
    count = F.adaptive_avg_pool2d(valid_f, size)
    length = summed.norm(dim=1, keepdim=True)
    bin_valid = (count > 0) & (length > 1e-6 * count.clamp(min=1e-12))
    pooled = torch.where(bin_valid, summed / length.clamp(min=1e-12),
                         torch.zeros_like(summed))
    return pooled.flatten(2).transpose(1, 2), bin_valid.flatten(1)


def normal_pair_difference(normals_q: Tensor, valid_q: Tensor,
                           normals_k: Tensor,
                           valid_k: Tensor) -> Tuple[Tensor, Tensor]:
    """``1 - cos`` of the angle between the normals of every bin pair.

    Args:
        normals_q (Tensor): [N, HW, 3] unit normals of the query grid.
        valid_q (Tensor): bool [N, HW].
        normals_k (Tensor): [N, HW, 3] unit normals of the key grid.
        valid_k (Tensor): bool [N, HW].

    Returns:
        tuple[Tensor, Tensor]: diff float32 [N, HW, HW] in [0, 2] (0 where
        invalid) and valid bool [N, HW, HW].
    """
    cos = torch.bmm(normals_q.float(), normals_k.float().transpose(1, 2))
    valid = valid_q[:, :, None] & valid_k[:, None, :]
    diff = torch.where(valid, 1. - cos, torch.zeros_like(cos))
    return diff, valid
