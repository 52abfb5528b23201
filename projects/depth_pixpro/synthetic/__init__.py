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

Speed (``benchmarks/data_pipeline.py``, one core): about 160 images/s at
128x128 (6 ms of CPU each), about 9 images/s at 480x640.

Modules: :mod:`.scene` (classes, options, random scenes and cameras),
:mod:`.materials` (colours and procedural textures), :mod:`.raycast`
(intrinsics, ray-primitive intersections, normals) and :mod:`.render` (images,
depth and labels of one or several views).
"""
from .materials import TEXTURES
from .raycast import intrinsics
from .render import (render_scene, render_scene_views, render_view,
                     renderer_fingerprint)
from .scene import (BOX, CEILING, CLASSES, CONE, CYLINDER, DEFAULT_OPTIONS,
                    FLOOR, IGNORE_INDEX, OBJECT_CLASSES, PALETTE, SPHERE,
                    WALL, nearby_pose, sample_scene)

__all__ = [
    'CLASSES', 'PALETTE', 'IGNORE_INDEX', 'FLOOR', 'WALL', 'CEILING', 'BOX',
    'SPHERE', 'CYLINDER', 'CONE', 'OBJECT_CLASSES', 'DEFAULT_OPTIONS',
    'TEXTURES', 'sample_scene', 'nearby_pose', 'intrinsics', 'render_view',
    'render_scene', 'render_scene_views', 'renderer_fingerprint'
]
