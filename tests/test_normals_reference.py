"""Normals from depth on a CURVED surface and with non-finite depth.

Planes (tests/test_head.py) cannot tell a forward difference from a
difference to any other pixel of the plane; a sphere can: its normal is
(P - C) / R, computed here from the ray-sphere intersection.
"""
import math

import torch

from projects.depth_pixpro.models.utils import depth_to_normals

FULL = torch.tensor([[0., 0., 1., 1.]])
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
