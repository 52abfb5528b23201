"""Random scenes: classes, options, rooms, objects, cameras and lights.

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
"""
import math
from typing import List, Tuple

import numpy as np

from .materials import blend_material, random_material

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


def look_pose(position: np.ndarray, yaw: float, pitch: float,
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


def sample_objects(rng: np.random.Generator, room: np.ndarray,
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
    pose = look_pose(cam_pos, yaw, pitch, roll)

    lo, hi = opts['num_objects']
    objects = sample_objects(rng, room, cam_pos, yaw, hfov,
                              int(rng.integers(lo, hi + 1)), opts)

    shared = random_material(rng)
    surfaces = [dict(cls=FLOOR), dict(cls=CEILING)] + [
        dict(cls=WALL) for _ in range(4)
    ] + objects
    for surface in surfaces:
        surface['material'] = blend_material(
            random_material(rng), shared, difficulty, rng)

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


def nearby_pose(scene: dict, rng: np.random.Generator, max_shift: float,
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
