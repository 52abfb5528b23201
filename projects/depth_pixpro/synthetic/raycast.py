"""Ray casting against the room and the primitives, vectorised over
pixels: rays ``o + t d`` with ``d_cam_z = 1``, so the ray parameter ``t`` is
the z-depth."""
import math
from typing import Sequence, Tuple

import numpy as np

from .scene import BOX, CONE, CYLINDER, SPHERE

#: Smallest ray parameter counted as a hit (no self-intersection).
EPS = 1e-4


def rotation_z(yaw: float) -> np.ndarray:
    """3x3 rotation by ``yaw`` radians around the world z axis."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.], [s, c, 0.], [0., 0., 1.]])


def intrinsics(size: Sequence[int], hfov: float) -> np.ndarray:
    """Pinhole intrinsics of an ``(H, W)`` image with horizontal FOV ``hfov``
    (radians), square pixels, principal point at the image centre."""
    h, w = size
    f = (w / 2.) / math.tan(hfov / 2.)
    return np.array([[f, 0., (w - 1) / 2.], [0., f, (h - 1) / 2.],
                     [0., 0., 1.]])


def room_hit(o: np.ndarray, d: np.ndarray,
             room: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Exit distance of rays from inside the room box and the surface index
    hit (0 floor, 1 ceiling, 2..5 walls x=0, x=Lx, y=0, y=Ly)."""
    with np.errstate(divide='ignore', invalid='ignore'):
        t_axes = []
        for axis in range(3):
            target = np.where(d[axis] > 0, room[axis], 0.).astype(np.float32)
            t = (target - o[axis]) / d[axis]
            t_axes.append(np.where(np.isfinite(t) & (t > 0), t, np.inf))
    t_all = np.stack(t_axes)
    axis = np.argmin(t_all, axis=0)
    t = np.take_along_axis(t_all, axis[None], 0)[0]
    positive = d[axis, np.arange(d.shape[1])] > 0
    # z: floor (0) / ceiling (1); x: walls 2/3; y: walls 4/5
    surface = np.where(axis == 2, positive.astype(np.int64),
                       2 + 2 * axis + positive)
    return t.astype(np.float32), surface


def _sphere_t(o, d, dd, obj):
    oc = (o - obj['centre']).astype(np.float32)
    b = oc @ d
    c = float(oc @ oc) - obj['radius']**2
    disc = b * b - dd * c
    hit = disc > 0
    t = np.full(d.shape[1], np.inf, np.float32)
    t[hit] = (-b[hit] - np.sqrt(disc[hit])) / dd[hit]
    return t


def _box_local(obj, p_or_d, is_point):
    rot = rotation_z(obj['yaw']).T.astype(np.float32)
    if is_point:
        return rot @ (p_or_d - obj['centre'][:, None].astype(np.float32))
    return rot @ p_or_d


def _box_t(o, d, dd, obj):
    rot = rotation_z(obj['yaw']).T
    o_local = (rot @ (o - obj['centre'])).astype(np.float32)
    d_local = _box_local(obj, d, False)
    half = obj['half'].astype(np.float32)[:, None]
    with np.errstate(divide='ignore', invalid='ignore'):
        inv = 1.0 / d_local
        t1 = (-half - o_local[:, None]) * inv
        t2 = (half - o_local[:, None]) * inv
    t_near = np.nanmax(np.minimum(t1, t2), axis=0)
    t_far = np.nanmin(np.maximum(t1, t2), axis=0)
    hit = (t_near <= t_far) & (t_near > EPS)
    return np.where(hit, t_near, np.inf).astype(np.float32)


def _first_root(a, half_b, c):
    """Smaller and larger roots of a t^2 + 2 half_b t + c = 0 (inf where
    there is no real root)."""
    disc = half_b * half_b - a * c
    ok = (disc >= 0) & (np.abs(a) > 1e-12)
    sq = np.sqrt(np.where(ok, disc, 0.))
    with np.errstate(divide='ignore', invalid='ignore'):
        r1 = np.where(ok, (-half_b - sq) / a, np.inf)
        r2 = np.where(ok, (-half_b + sq) / a, np.inf)
    return np.minimum(r1, r2), np.maximum(r1, r2)


def _cylinder_t(o, d, dd, obj):
    """Vertical capped cylinder standing on the floor (top cap only: the
    bottom cap lies on the floor and is never visible)."""
    cx, cy = obj['centre'][:2]
    r, h = obj['radius'], obj['height']
    ox, oy, oz = o[0] - cx, o[1] - cy, o[2]
    a = d[0] * d[0] + d[1] * d[1]
    half_b = d[0] * ox + d[1] * oy
    c = ox * ox + oy * oy - r * r
    t_side, _ = _first_root(a, half_b, c)
    z = oz + t_side * d[2]
    t_side = np.where((t_side > EPS) & (z >= 0) & (z <= h), t_side, np.inf)
    with np.errstate(divide='ignore', invalid='ignore'):
        t_cap = (h - oz) / d[2]
    x, y = ox + t_cap * d[0], oy + t_cap * d[1]
    t_cap = np.where((t_cap > EPS) & (x * x + y * y <= r * r), t_cap,
                     np.inf)
    return np.minimum(t_side, t_cap).astype(np.float32)


def _cone_t(o, d, dd, obj):
    """Vertical cone, base disc of radius r on the floor, apex at height h:
    x^2 + y^2 = k^2 (h - z)^2 with k = r / h and 0 <= z <= h."""
    cx, cy = obj['centre'][:2]
    r, h = obj['radius'], obj['height']
    k2 = (r / h)**2
    ox, oy, hz = o[0] - cx, o[1] - cy, h - o[2]
    a = d[0] * d[0] + d[1] * d[1] - k2 * d[2] * d[2]
    half_b = d[0] * ox + d[1] * oy + k2 * hz * d[2]
    c = ox * ox + oy * oy - k2 * hz * hz
    t_best = np.full(d.shape[1], np.inf, np.float32)
    # both roots may lie on the (double) cone; keep the nearest on the
    # real nappe 0 <= z <= h
    for t in reversed(_first_root(a, half_b, c)):
        z = o[2] + t * d[2]
        t_best = np.where((t > EPS) & (z >= 0) & (z <= h), t, t_best)
    return t_best


INTERSECT = {SPHERE: _sphere_t, BOX: _box_t, CYLINDER: _cylinder_t,
             CONE: _cone_t}


def surface_normals(surface: dict, index: int, p: np.ndarray,
                    d: np.ndarray) -> np.ndarray:
    """Unit outward normals [3, n] of a surface at hit points ``p``."""
    cls = surface['cls']
    n = np.zeros_like(p)
    if index < 6:  # room: normals point into the room
        axis, sign = [(2, 1), (2, -1), (0, 1), (0, -1), (1, 1),
                      (1, -1)][index]
        n[axis] = sign
        return n
    centre = surface['centre'].astype(np.float32)[:, None]
    if cls == SPHERE:
        n = p - centre
    elif cls == BOX:
        local = _box_local(surface, p, True)
        rel = np.abs(local) / surface['half'].astype(np.float32)[:, None]
        face = np.argmax(rel, axis=0)
        n_local = np.zeros_like(p)
        n_local[face, np.arange(p.shape[1])] = np.sign(
            local[face, np.arange(p.shape[1])])
        n = rotation_z(surface['yaw']).astype(np.float32) @ n_local
    elif cls == CYLINDER:
        on_cap = p[2] >= surface['height'] - 1e-3
        n[:2] = p[:2] - centre[:2]
        n[:, on_cap] = np.array([[0.], [0.], [1.]], np.float32)
    else:  # CONE: gradient of x^2 + y^2 - k^2 (h - z)^2
        k2 = (surface['radius'] / surface['height'])**2
        n[:2] = p[:2] - centre[:2]
        n[2] = k2 * (surface['height'] - p[2])
    n /= np.linalg.norm(n, axis=0, keepdims=True) + 1e-12
    return n
