"""NormalPairFilter and the normals from depth: a slanted plane (exact,
flip-invariant), a sphere (whose normal (P - C) / R tells a forward
difference from any other), non-finite depth, a fold and a single plane."""
import math

import torch

from mmpretrain.registry import MODELS
from projects.depth_pixpro.models.utils import (depth_to_normals,
                                                view_rays)


FULL = torch.tensor([[0., 0., 1., 1.]])


# ---------------------------------------------------------------- normals
def plane_depth(coord, size, normal, offset, fov=60., aspect=4. / 3.):
    """Ray-cast z of the plane n.P = offset for each pixel of each view."""
    rays = view_rays(coord, size, fov, aspect)  # [N, 3, h, w]
    n = torch.tensor(normal).view(1, 3, 1, 1)
    return offset / (rays * n).sum(1)


def fold_depth(coord, size):
    """A wall z = 4 above a floor y = 1 (camera y points down)."""
    wall = plane_depth(coord, size, (0., 0., 1.), 4.)
    floor = plane_depth(coord, size, (0., 1., 0.), 1.)
    floor = torch.where(floor > 0, floor, torch.full_like(floor, 1e9))
    return torch.minimum(wall, floor)


def test_normals_of_a_slanted_plane_are_exact_and_flip_invariant():
    coord = torch.tensor([[0.1, 0.1, 0.9, 0.8], [0.9, 0.1, 0.1, 0.8]])
    depth = plane_depth(coord, (24, 32), (-0.8, 0., 1.), 4.)
    normals, valid = depth_to_normals(depth, coord)
    expected = torch.tensor([0.8, 0., -1.]) / math.hypot(0.8, 1.)
    assert valid[:, :-1, :-1].all() and not valid[:, -1].any()
    got = normals.permute(0, 2, 3, 1)[valid]
    torch.testing.assert_close(got, expected.expand_as(got), atol=1e-4,
                               rtol=0)


def test_normals_of_a_flipped_view_are_those_of_the_image():
    """Independent geometry: rays written out here, the view is the image's
    depth array mirrored, so only its coord tells the filter about the flip.
    """
    height, width, tan_x = 24, 32, math.tan(math.radians(30.))
    u = (torch.arange(width) + 0.5) / width
    v = (torch.arange(height) + 0.5) / height
    rx = ((u - 0.5) * 2 * tan_x)[None, :].expand(height, -1)
    ry = ((v - 0.5) * 2 * tan_x * 0.75)[:, None].expand(-1, width)
    # plane 0.6 X + 0.2 Y + Z = 4  ->  z = 4 / (0.6 rx + 0.2 ry + 1)
    depth = (4. / (0.6 * rx + 0.2 * ry + 1.))[None]
    expected = -torch.tensor([0.6, 0.2, 1.]) / math.sqrt(1.4)
    for coord, view in ((FULL, depth), (FULL[:, [2, 1, 0, 3]],
                                        depth.flip(-1))):
        normals, valid = depth_to_normals(view, coord)
        got = normals.permute(0, 2, 3, 1)[valid]
        assert len(got) == (height - 1) * (width - 1)
        torch.testing.assert_close(got, expected.expand_as(got), atol=1e-4,
                                   rtol=0)


def test_normal_filter_removes_pairs_across_a_fold():
    filt = MODELS.build(dict(type='NormalPairFilter', max_angle_deg=30))
    size, grid = (48, 48), (6, 6)
    coord_q = torch.tensor([[0., 0., 1., 1.]])
    coord_k = torch.tensor([[1., 0., 0., 1.]])  # flipped view of the same
    depth_q = fold_depth(coord_q, size)
    depth_k = fold_depth(coord_k, size)
    prep_q = filt.on_grid(filt.per_view(depth_q, coord_q), grid)
    prep_k = filt.on_grid(filt.per_view(depth_k, coord_k), grid)
    stat, valid = filt.pair_statistic(prep_q, prep_k)
    keep = filt.keep(stat, valid, filt.thresh)[0]
    # rows of bins: which are entirely wall / entirely floor
    rays_y = view_rays(coord_q, size)[0, 1, :, 0]
    is_floor = (rays_y > 0.25).view(6, 8)
    wall_rows = [r for r in range(6) if not is_floor[r].any()]
    floor_rows = [r for r in range(6) if is_floor[r].all()]
    assert wall_rows and floor_rows
    for i in range(36):
        for j in range(36):
            ri, rj = i // 6, j // 6
            if ri in wall_rows and rj in wall_rows:
                assert keep[i, j]
            if ri in floor_rows and rj in floor_rows:
                assert keep[i, j]
            if (ri in wall_rows and rj in floor_rows) or \
                    (ri in floor_rows and rj in wall_rows):
                assert not keep[i, j]
    assert not keep.all()


def test_normal_filter_keeps_a_single_plane():
    filt = MODELS.build(dict(type='NormalPairFilter', max_angle_deg=10))
    coord = torch.tensor([[0.05, 0.1, 0.95, 0.9], [0.8, 0.0, 0.2, 0.7]])
    depth = plane_depth(coord, (32, 32), (0.3, -0.5, 1.), 3.)
    prep = filt.on_grid(filt.per_view(depth, coord), (4, 4))
    stat, valid = filt.pair_statistic(prep, prep)
    assert valid.all()
    assert filt.keep(stat, valid, filt.thresh).all()
    # cross-view: view 0 vs the other (flipped) crop of the same plane
    prep_b = filt.on_grid(
        filt.per_view(depth.flip(0), coord.flip(0)), (4, 4))
    stat, valid = filt.pair_statistic(prep, prep_b)
    assert filt.keep(stat, valid, filt.thresh).all()


HEIGHT, WIDTH = 48, 64


CENTRE, RADIUS = torch.tensor([0.2, -0.1, 5.0], dtype=torch.float64), 2.0


def pinhole_rays(fov_deg=60., aspect=4. / 3.):
    """[3, H, W] rays (z = 1) of the full image, written out."""
    tan_x = math.tan(math.radians(fov_deg) / 2)
    u = (torch.arange(WIDTH, dtype=torch.float64) + 0.5) / WIDTH
    v = (torch.arange(HEIGHT, dtype=torch.float64) + 0.5) / HEIGHT
    rx = ((u - 0.5) * 2 * tan_x)[None, :].expand(HEIGHT, -1)
    ry = ((v - 0.5) * 2 * tan_x / aspect)[:, None].expand(-1, WIDTH)
    return torch.stack([rx, ry, torch.ones_like(rx)])


def sphere():
    """Depth of the sphere (0 where a ray misses it) and its normals."""
    rays = pinhole_rays()
    b = (rays * CENTRE[:, None, None]).sum(0)
    a = (rays**2).sum(0)
    c = (CENTRE**2).sum() - RADIUS**2
    disc = b**2 - a * c
    hit = disc > 0
    t = torch.where(hit, (b - disc.clamp(min=0).sqrt()) / a,
                    torch.zeros_like(b))
    points = rays * t
    normals = (points - CENTRE[:, None, None]) / RADIUS
    return t, normals, hit


def test_normals_of_a_sphere_match_the_analytic_ones():
    depth, expected, hit = sphere()
    normals, valid = depth_to_normals(depth.float()[None], FULL)
    normals, valid = normals[0].double(), valid[0]
    # the finite difference sits half a pixel off: compare where the
    # surface faces the camera, to 3 degrees
    rays = pinhole_rays()
    facing = -(expected * rays).sum(0) / rays.norm(dim=0) > 0.5
    check = valid & facing & hit
    assert check.sum() > 300
    cos = (normals * expected).sum(0)[check]
    assert cos.min() > math.cos(math.radians(3.))
    # and nowhere near the sphere's rim is a normal valid off the sphere
    assert not valid[~hit].any()


def test_non_finite_depth_is_invalid_with_its_neighbours():
    # a wall at 1 m: a non-finite pixel read as any finite depth near 1
    # would pass the depth-jump test
    depth = torch.ones(1, HEIGHT, WIDTH)
    for (row, col), value in (((20, 30), -math.inf), ((24, 36), math.inf),
                              ((28, 28), math.nan)):
        depth[0, row, col] = value
    _, valid = depth_to_normals(depth, FULL)
    for row, col in ((20, 30), (24, 36), (28, 28)):
        # the pixel, and the pixels whose forward differences use it
        assert not valid[0, row, col]
        assert not valid[0, row - 1, col]
        assert not valid[0, row, col - 1]
        assert valid[0, row + 2, col + 2]
