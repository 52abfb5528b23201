"""Synthetic RGB-D scenes: a pure-numpy analytic ray caster.

Every image is a random room (floor, ceiling, four walls) holding random
primitives (boxes, spheres, cylinders, cones), seen by a random pinhole camera
and lit by a random point light with Lambert shading. Everything is exact:
metric z-depth, per-pixel class labels, intrinsics ``K`` and the
camera-to-world ``pose``. Nothing is read from disk, so every command of the
project can run on a fresh machine.

Conventions:

* World frame: metres, **z up**, the floor is the plane ``z = 0``, the room
  is the box ``[0, Lx] x [0, Ly] x [0, Lz]``.
* Camera frame: OpenCV (x right, y down, z forward). ``pose`` maps camera
  coordinates to world coordinates: ``X_w = pose[:3, :3] @ X_c + pose[:3, 3]``.
  Pixel ``(u, v)`` (column, row; pixel centres at integers) with depth ``z``
  is ``X_c = z * inv(K) @ [u, v, 1]``.
* ``depth`` is the z-depth (distance along the optical axis), float32 metres,
  always > 0 (the room is closed).
* ``label`` is the index of the class in :data:`CLASSES` (uint8). 255 is
  reserved for "nothing / ignore" and never occurs in a closed room.
* ``img`` is uint8 **BGR** (like ``LoadImageFromFile``).

Colours never give away the class: every surface draws its material
(two colours, a procedural solid texture, its scale) independently of its
class. ``difficulty`` in [0, 1] controls how much colour/texture separates
neighbouring surfaces:

* 0: every surface has its own palette and texture (colour edges coincide
  with object edges, an easy cue);
* 1: every surface uses one shared scene material (same colours, same
  texture kind and scale), so only geometry (depth, and the shading it
  produces) separates objects;
* in between: each surface's material is a blend (colours interpolated,
  texture kind/scale taken from the shared material with probability
  ``difficulty``).

Speed (``benchmarks/data_pipeline.py``, one core): about 160 images/s at
128x128 (6 ms of CPU each), about 9 images/s at 480x640.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

#: Class names; ``label`` values index this tuple (255 = ignore).
CLASSES: Tuple[str, ...] = ('floor', 'wall', 'ceiling', 'box', 'sphere',
                            'cylinder', 'cone')
#: A fixed palette for visualising labels (RGB), one row per class.
PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (152, 118, 84), (174, 199, 232), (240, 240, 240), (31, 119, 180),
    (255, 127, 14), (44, 160, 44), (214, 39, 40))
IGNORE_INDEX = 255

FLOOR, WALL, CEILING, BOX, SPHERE, CYLINDER, CONE = range(len(CLASSES))
OBJECT_CLASSES = (BOX, SPHERE, CYLINDER, CONE)

# Texture kinds of the procedural solid textures.
_TEXTURES = ('plain', 'checker', 'stripes', 'waves', 'noise')
_EPS = 1e-4

# Default scene ranges (override through ``render_scene(**options)``).
DEFAULT_OPTIONS = dict(
    room_size=((3.5, 8.0), (3.5, 8.0), (2.4, 3.2)),  # Lx, Ly, Lz ranges
    num_objects=(3, 8),  # inclusive range
    hfov_deg=(50.0, 80.0),  # horizontal field of view range
    camera_height=(1.0, 1.8),
    pitch_deg=(-35.0, -5.0),  # negative = looking down
    roll_deg=(-5.0, 5.0),
    object_size=(0.15, 0.6),  # radius / half extent range
    ambient=(0.25, 0.45),
    noise_std=2.0,  # sensor noise (uint8 levels); 0 disables it
)


# --------------------------------------------------------------------------
# Scene description (sampling)
# --------------------------------------------------------------------------
def _rotation_z(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.], [s, c, 0.], [0., 0., 1.]])


def _look_pose(position: np.ndarray, yaw: float, pitch: float,
               roll: float) -> np.ndarray:
    """Camera-to-world pose of an OpenCV camera at ``position`` looking along
    heading ``yaw`` (around world z), tilted by ``pitch`` (radians, negative
    looks down) and rolled by ``roll`` around its optical axis."""
    forward = np.array([
        math.cos(pitch) * math.cos(yaw),
        math.cos(pitch) * math.sin(yaw),
        math.sin(pitch)
    ])
    right = np.cross(forward, [0., 0., 1.])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    # roll: rotate right/down around the optical axis
    c, s = math.cos(roll), math.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    pose = np.eye(4)
    pose[:3, :3] = np.stack([right, down, forward], axis=1)
    pose[:3, 3] = position
    return pose


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    """A random RGB albedo in [0.08, 0.95] (HSV sampled, so colours vary in
    hue, saturation and brightness)."""
    h, s, v = rng.uniform(0, 1), rng.uniform(0.1, 0.9), rng.uniform(0.25, 0.95)
    k = (np.array([5., 3., 1.]) + h * 6.) % 6.
    rgb = v - v * s * np.clip(np.minimum(k, 4. - k), 0., 1.)
    return np.clip(rgb, 0.08, 0.95)


def _random_material(rng: np.random.Generator) -> dict:
    """Two colours, a texture kind, a scale (metres) and a random 3D frame
    (the texture is a solid texture evaluated at the world hit point)."""
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return dict(
        colours=np.stack([_random_colour(rng),
                          _random_colour(rng)]),
        texture=_TEXTURES[rng.integers(len(_TEXTURES))],
        scale=float(np.exp(rng.uniform(math.log(0.08), math.log(0.6)))),
        frame=q,
        phase=rng.uniform(0, 2 * math.pi, size=3))


def _blend_material(own: dict, shared: dict, difficulty: float,
                    rng: np.random.Generator) -> dict:
    """Move a surface's own material towards the shared scene material.

    Colours are interpolated linearly; the texture kind and scale come from
    the shared material with probability ``difficulty``. The texture frame
    stays the surface's own, so textures never line up across surfaces.
    """
    material = dict(own)
    material['colours'] = ((1 - difficulty) * own['colours'] +
                           difficulty * shared['colours'])
    if rng.uniform() < difficulty:
        material['texture'] = shared['texture']
        material['scale'] = shared['scale']
    return material


def _sample_objects(rng: np.random.Generator, room: np.ndarray,
                    cam_pos: np.ndarray, yaw: float, hfov: float,
                    num: int, opts: dict) -> List[dict]:
    """Random primitives resting on the floor (spheres may float), placed in
    front of the camera so that most of them are visible, not overlapping
    each other or the camera (checked on bounding circles in xy)."""
    objects: List[dict] = []
    lo_size, hi_size = opts['object_size']
    for _ in range(num * 6):  # rejection sampling, a few tries per object
        if len(objects) == num:
            break
        cls = OBJECT_CLASSES[rng.integers(len(OBJECT_CLASSES))]
        size = rng.uniform(lo_size, hi_size)
        dist = rng.uniform(1.0, 4.5)
        angle = yaw + rng.uniform(-0.6, 0.6) * hfov
        centre_xy = cam_pos[:2] + dist * np.array(
            [math.cos(angle), math.sin(angle)])
        obj = dict(cls=cls)
        if cls == BOX:
            half = rng.uniform(lo_size, hi_size, size=3)
            half[2] = rng.uniform(lo_size, 1.6 * hi_size)
            obj.update(half=half, yaw=rng.uniform(0, math.pi))
            radius_xy = float(np.hypot(half[0], half[1]))
            centre_z = half[2]
        elif cls == SPHERE:
            obj.update(radius=size)
            radius_xy = size
            floating = rng.uniform() < 0.3
            centre_z = (rng.uniform(size, room[2] - size - 0.3)
                        if floating else size)
        elif cls == CYLINDER:
            obj.update(radius=size, height=rng.uniform(0.3, 1.6))
            radius_xy, centre_z = size, 0.
        else:  # CONE
            obj.update(radius=size, height=rng.uniform(0.4, 1.6))
            radius_xy, centre_z = size, 0.
        margin = radius_xy + 0.05
        if not (margin < centre_xy[0] < room[0] - margin
                and margin < centre_xy[1] < room[1] - margin):
            continue
        if np.hypot(*(centre_xy - cam_pos[:2])) < radius_xy + 0.5:
            continue
        if any(
                np.hypot(*(centre_xy - o['centre'][:2])) < radius_xy +
                o['radius_xy'] + 0.05 for o in objects):
            continue
        obj.update(
            centre=np.array([centre_xy[0], centre_xy[1], centre_z]),
            radius_xy=radius_xy)
        objects.append(obj)
    return objects


def sample_scene(seed: int,
                 difficulty: float = 0.5,
                 **options) -> dict:
    """Sample a random scene and camera (no rendering).

    Args:
        seed (int): Random seed; the scene is a pure function of
            ``(seed, difficulty, options)``.
        difficulty (float): In [0, 1], see the module docstring.
        **options: Overrides of :data:`DEFAULT_OPTIONS`.

    Returns:
        dict: ``room`` (Lx, Ly, Lz), ``surfaces`` (list of dicts with ``cls``,
        ``material`` and, for objects, geometry), ``pose`` (4x4
        camera-to-world), ``hfov`` (radians), ``light`` (world position),
        ``light_colour``, ``ambient``, ``noise_std``.
    """
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f'difficulty must be in [0, 1], got {difficulty}')
    unknown = set(options) - set(DEFAULT_OPTIONS)
    if unknown:
        raise ValueError(f'unknown render options {sorted(unknown)}; '
                         f'valid ones: {sorted(DEFAULT_OPTIONS)}')
    opts = {**DEFAULT_OPTIONS, **options}
    rng = np.random.default_rng(seed)
    room = np.array([rng.uniform(*r) for r in opts['room_size']])

    # camera inside the room, heading roughly towards the room centre
    cam_pos = np.array([
        rng.uniform(0.4, room[0] - 0.4),
        rng.uniform(0.4, room[1] - 0.4),
        min(rng.uniform(*opts['camera_height']), room[2] - 0.3)
    ])
    to_centre = room[:2] / 2 - cam_pos[:2]
    yaw = math.atan2(to_centre[1], to_centre[0]) + rng.uniform(-0.7, 0.7)
    pitch = math.radians(rng.uniform(*opts['pitch_deg']))
    roll = math.radians(rng.uniform(*opts['roll_deg']))
    hfov = math.radians(rng.uniform(*opts['hfov_deg']))
    pose = _look_pose(cam_pos, yaw, pitch, roll)

    lo, hi = opts['num_objects']
    objects = _sample_objects(rng, room, cam_pos, yaw, hfov,
                              int(rng.integers(lo, hi + 1)), opts)

    shared = _random_material(rng)
    surfaces = [dict(cls=FLOOR), dict(cls=CEILING)] + [
        dict(cls=WALL) for _ in range(4)
    ] + objects
    for surface in surfaces:
        surface['material'] = _blend_material(
            _random_material(rng), shared, difficulty, rng)

    light = np.array([
        rng.uniform(0.5, room[0] - 0.5),
        rng.uniform(0.5, room[1] - 0.5), room[2] - rng.uniform(0.1, 0.5)
    ])
    light_colour = 1.0 + rng.uniform(-0.15, 0.15, size=3)
    return dict(
        room=room,
        surfaces=surfaces,
        pose=pose,
        hfov=hfov,
        light=light,
        light_colour=light_colour,
        ambient=rng.uniform(*opts['ambient']),
        noise_std=float(opts['noise_std']),
        noise_seed=int(rng.integers(2**31)))


# --------------------------------------------------------------------------
# Ray casting (vectorised over pixels; rays o + t d with d_cam_z = 1, so the
# ray parameter t is the z-depth)
# --------------------------------------------------------------------------
def intrinsics(size: Sequence[int], hfov: float) -> np.ndarray:
    """Pinhole intrinsics of an ``(H, W)`` image with horizontal FOV ``hfov``
    (radians), square pixels, principal point at the image centre."""
    h, w = size
    f = (w / 2.) / math.tan(hfov / 2.)
    return np.array([[f, 0., (w - 1) / 2.], [0., f, (h - 1) / 2.],
                     [0., 0., 1.]])


def _room_hit(o: np.ndarray, d: np.ndarray,
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
    rot = _rotation_z(obj['yaw']).T.astype(np.float32)
    if is_point:
        return rot @ (p_or_d - obj['centre'][:, None].astype(np.float32))
    return rot @ p_or_d


def _box_t(o, d, dd, obj):
    rot = _rotation_z(obj['yaw']).T
    o_local = (rot @ (o - obj['centre'])).astype(np.float32)
    d_local = _box_local(obj, d, False)
    half = obj['half'].astype(np.float32)[:, None]
    with np.errstate(divide='ignore', invalid='ignore'):
        inv = 1.0 / d_local
        t1 = (-half - o_local[:, None]) * inv
        t2 = (half - o_local[:, None]) * inv
    t_near = np.nanmax(np.minimum(t1, t2), axis=0)
    t_far = np.nanmin(np.maximum(t1, t2), axis=0)
    hit = (t_near <= t_far) & (t_near > _EPS)
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
    t_side = np.where((t_side > _EPS) & (z >= 0) & (z <= h), t_side, np.inf)
    with np.errstate(divide='ignore', invalid='ignore'):
        t_cap = (h - oz) / d[2]
    x, y = ox + t_cap * d[0], oy + t_cap * d[1]
    t_cap = np.where((t_cap > _EPS) & (x * x + y * y <= r * r), t_cap,
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
        t_best = np.where((t > _EPS) & (z >= 0) & (z <= h), t, t_best)
    return t_best


_INTERSECT = {SPHERE: _sphere_t, BOX: _box_t, CYLINDER: _cylinder_t,
              CONE: _cone_t}


def _normals(surface: dict, index: int, p: np.ndarray,
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
        n = _rotation_z(surface['yaw']).astype(np.float32) @ n_local
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


def _texture(material: dict, p: np.ndarray) -> np.ndarray:
    """Albedo [3, n] of a procedural solid texture at world points p."""
    q = (material['frame'].astype(np.float32) @ p) / material['scale']
    phase = material['phase'].astype(np.float32)[:, None]
    kind = material['texture']
    if kind == 'plain':
        m = np.zeros(p.shape[1], np.float32)
    elif kind == 'checker':
        m = (np.floor(q + phase).astype(np.int64).sum(0) % 2).astype(
            np.float32)
    elif kind == 'stripes':
        m = (np.sin(math.pi * q[0] + phase[0]) > 0).astype(np.float32)
    elif kind == 'waves':
        m = 0.5 + 0.5 * np.sin(math.pi * q[0] + 0.7 * np.sin(q[1]) + phase[0])
    else:  # noise: a few incommensurate sinusoids, smooth and aperiodic
        m = (np.sin(q[0] * 1.7 + phase[0]) * np.sin(q[1] * 2.3 + phase[1]) +
             0.5 * np.sin(q[2] * 3.1 + q[0] * 1.3 + phase[2]))
        m = np.clip(0.5 + 0.4 * m, 0, 1)
    c0, c1 = material['colours'].astype(np.float32)
    return c0[:, None] * (1 - m) + c1[:, None] * m


def render_view(scene: dict,
                size: Sequence[int] = (128, 128),
                pose: Optional[np.ndarray] = None,
                noise_seed: Optional[int] = None) -> Dict[str, np.ndarray]:
    """Ray-cast one view of a scene from :func:`sample_scene`.

    Args:
        scene (dict): A scene from :func:`sample_scene`.
        size (tuple[int, int]): ``(H, W)`` of the image.
        pose (np.ndarray, optional): 4x4 camera-to-world pose; defaults to
            the scene's camera. Another pose gives a second, consistent view
            of the same scene (it must stay inside the room and outside the
            objects).
        noise_seed (int, optional): Seed of the sensor noise; defaults to
            the scene's.

    Returns:
        dict: ``img`` (HxWx3 uint8 BGR), ``depth`` (HxW float32 metres),
        ``label`` (HxW uint8 class index), ``instance`` (HxW uint8 surface
        index: 0 floor, 1 ceiling, 2-5 walls, 6+ objects), ``K`` (3x3
        float32), ``pose`` (4x4 float32 camera-to-world).
    """
    h, w = int(size[0]), int(size[1])
    if h < 1 or w < 1:
        raise ValueError(f'size must be positive (H, W), got {size}')
    pose = scene['pose'] if pose is None else np.asarray(pose, np.float64)
    K = intrinsics((h, w), scene['hfov'])
    # camera rays with unit z in the camera frame: t == z-depth
    u = (np.arange(w, dtype=np.float32) - K[0, 2]) / K[0, 0]
    v = (np.arange(h, dtype=np.float32) - K[1, 2]) / K[1, 1]
    rays_cam = np.stack([
        np.broadcast_to(u[None], (h, w)).ravel(),
        np.broadcast_to(v[:, None], (h, w)).ravel(),
        np.ones(h * w, np.float32)
    ])
    d = pose[:3, :3].astype(np.float32) @ rays_cam
    o = pose[:3, 3]
    dd = (d * d).sum(0)

    t, sid = _room_hit(o.astype(np.float32), d, scene['room'])
    surfaces = scene['surfaces']
    for index in range(6, len(surfaces)):
        obj = surfaces[index]
        t_obj = _INTERSECT[obj['cls']](o, d, dd, obj)
        closer = t_obj < t
        t = np.where(closer, t_obj, t)
        sid = np.where(closer, index, sid)

    p = o.astype(np.float32)[:, None] + d * t[None]
    colour = np.empty((3, h * w), np.float32)
    light = scene['light'].astype(np.float32)[:, None]
    for index in np.flatnonzero(np.bincount(sid, minlength=len(surfaces))):
        pix = np.nonzero(sid == index)[0]
        surface = surfaces[index]
        p_s = p[:, pix]
        normal = _normals(surface, int(index), p_s, d[:, pix])
        to_light = light - p_s
        dist2 = (to_light * to_light).sum(0)
        lambert = np.maximum((normal * to_light).sum(0), 0) / np.sqrt(dist2)
        # soft inverse-square falloff, 1 at 2 m from the light
        falloff = 1.0 / (1.0 + dist2 / 4.0) * 2.0
        shade = scene['ambient'] + (1 - scene['ambient']) * lambert * falloff
        colour[:, pix] = (_texture(surface['material'], p_s) * shade *
                          scene['light_colour'].astype(np.float32)[:, None])

    img = colour.T.reshape(h, w, 3)[..., ::-1] * 255.0  # RGB -> BGR
    if scene['noise_std'] > 0:
        noise_rng = np.random.default_rng(
            scene['noise_seed'] if noise_seed is None else noise_seed)
        img = img + scene['noise_std'] * noise_rng.standard_normal(
            img.shape, dtype=np.float32)
    class_of = np.array([s['cls'] for s in surfaces], np.uint8)
    return dict(
        img=np.clip(img + 0.5, 0, 255).astype(np.uint8),
        depth=t.reshape(h, w).astype(np.float32),
        label=class_of[sid].reshape(h, w),
        instance=sid.reshape(h, w).astype(np.uint8),
        K=K.astype(np.float32),
        pose=pose.astype(np.float32))


def render_scene(seed: int,
                 size: Sequence[int] = (128, 128),
                 difficulty: float = 0.5,
                 **options) -> Dict[str, np.ndarray]:
    """Render a random RGB-D scene, deterministically from ``seed``.

    Args:
        seed (int): Random seed (same seed, size, difficulty and options ->
            identical output).
        size (tuple[int, int]): ``(H, W)`` of the image. Defaults to
            ``(128, 128)``. The scene does not depend on the size, so the same
            seed at two sizes shows the same scene.
        difficulty (float): In [0, 1]; 0 = every surface has its own colours
            and texture, 1 = all surfaces share one material so only
            geometry separates objects. Defaults to 0.5.
        **options: Overrides of :data:`DEFAULT_OPTIONS` (e.g.
            ``num_objects=(5, 5)``, ``noise_std=0``).

    Returns:
        dict: ``img`` (HxWx3 uint8 **BGR**), ``depth`` (HxW float32 metres,
        z-depth, > 0), ``label`` (HxW uint8, index into :data:`CLASSES`),
        ``instance`` (HxW uint8 surface index), ``K`` (3x3 float32
        intrinsics), ``pose`` (4x4 float32 camera-to-world, OpenCV camera,
        world z up, floor at z = 0).
    """
    return render_view(sample_scene(seed, difficulty, **options), size)


def _nearby_pose(scene: dict, rng: np.random.Generator, max_shift: float,
                 max_angle_deg: float) -> np.ndarray:
    """The scene's camera moved by up to ``max_shift`` metres per axis and
    turned by up to ``max_angle_deg`` per angle (yaw, pitch, roll), kept
    inside the room (objects stand >= 0.5 m from the base camera in xy, so
    shifts below that never enter an object)."""
    pose = scene['pose'].copy()
    shift = rng.uniform(-max_shift, max_shift, size=3)
    room = scene['room']
    pose[:3, 3] = np.clip(pose[:3, 3] + shift, 0.2, room - 0.2)
    angles = np.radians(rng.uniform(-max_angle_deg, max_angle_deg, size=3))
    rot = np.eye(3)
    for axis, angle in enumerate(angles):  # small rotations in camera frame
        c, s = math.cos(angle), math.sin(angle)
        i, j = [(1, 2), (2, 0), (0, 1)][axis]
        r = np.eye(3)
        r[i, i] = r[j, j] = c
        r[i, j], r[j, i] = -s, s
        rot = rot @ r
    pose[:3, :3] = pose[:3, :3] @ rot
    return pose


def render_scene_views(seed: int,
                       num_views: int = 2,
                       size: Sequence[int] = (128, 128),
                       difficulty: float = 0.5,
                       max_shift: float = 0.15,
                       max_angle_deg: float = 5.0,
                       **options) -> List[Dict[str, np.ndarray]]:
    """Several nearby views of one scene (a short "video", like consecutive
    ScanNet frames): view 0 is exactly ``render_scene(seed, size,
    difficulty, **options)``, the others move the camera slightly.

    Args:
        seed (int): Scene seed.
        num_views (int): Number of views. Defaults to 2.
        size (tuple[int, int]): ``(H, W)``. Defaults to (128, 128).
        difficulty (float): See :func:`render_scene`.
        max_shift (float): Largest camera shift per axis (metres, < 0.5).
        max_angle_deg (float): Largest rotation per angle (degrees).
        **options: See :func:`render_scene`.

    Returns:
        list[dict]: One :func:`render_scene`-style dict per view; ``K`` is
        the same for all views.
    """
    if not 0.0 <= max_shift < 0.5:
        raise ValueError(f'max_shift must be in [0, 0.5), got {max_shift}')
    scene = sample_scene(seed, difficulty, **options)
    rng = np.random.default_rng([seed, 1])  # independent of the scene draw
    views = [render_view(scene, size)]
    for v in range(1, num_views):
        pose = _nearby_pose(scene, rng, max_shift, max_angle_deg)
        views.append(
            render_view(scene, size, pose, noise_seed=scene['noise_seed'] + v))
    return views
