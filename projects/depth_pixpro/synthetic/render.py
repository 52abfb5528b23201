"""Render views of a scene: BGR image, z-depth, labels, instances, K, pose."""
import functools
import hashlib
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from .materials import texture_albedo
from .raycast import INTERSECT, intrinsics, room_hit, surface_normals
from .scene import nearby_pose, sample_scene


@functools.lru_cache(maxsize=None)
def renderer_fingerprint() -> str:
    """A digest of what a seed renders to: the source of every module of
    this package and numpy's version (its random streams).

    A cache of rendered scenes keyed by it is never read back by another
    version of the renderer.

    Returns:
        str: 12 hex digits.
    """
    digest = hashlib.sha1(f'numpy {np.__version__}'.encode())
    folder = osp.dirname(osp.abspath(__file__))
    for name in sorted(os.listdir(folder)):
        if name.endswith('.py'):
            digest.update(name.encode())
            with open(osp.join(folder, name), 'rb') as f:
                digest.update(f.read())
    return digest.hexdigest()[:12]


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

    t, sid = room_hit(o.astype(np.float32), d, scene['room'])
    surfaces = scene['surfaces']
    for index in range(6, len(surfaces)):
        obj = surfaces[index]
        t_obj = INTERSECT[obj['cls']](o, d, dd, obj)
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
        normal = surface_normals(surface, int(index), p_s, d[:, pix])
        to_light = light - p_s
        dist2 = (to_light * to_light).sum(0)
        lambert = np.maximum((normal * to_light).sum(0), 0) / np.sqrt(dist2)
        # soft inverse-square falloff, 1 at 2 m from the light
        falloff = 1.0 / (1.0 + dist2 / 4.0) * 2.0
        shade = scene['ambient'] + (1 - scene['ambient']) * lambert * falloff
        colour[:, pix] = (texture_albedo(surface['material'], p_s) * shade *
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
        pose = nearby_pose(scene, rng, max_shift, max_angle_deg)
        views.append(
            render_view(scene, size, pose, noise_seed=scene['noise_seed'] + v))
    return views
