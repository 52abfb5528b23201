"""Surface materials: random colours and procedural solid textures."""
import math

import numpy as np

# Texture kinds of the procedural solid textures.
TEXTURES = ('plain', 'checker', 'stripes', 'waves', 'noise')


def random_colour(rng: np.random.Generator) -> np.ndarray:
    """A random RGB albedo in [0.08, 0.95] (HSV sampled, so colours vary in
    hue, saturation and brightness)."""
    h, s, v = rng.uniform(0, 1), rng.uniform(0.1, 0.9), rng.uniform(0.25, 0.95)
    k = (np.array([5., 3., 1.]) + h * 6.) % 6.
    rgb = v - v * s * np.clip(np.minimum(k, 4. - k), 0., 1.)
    return np.clip(rgb, 0.08, 0.95)


def random_material(rng: np.random.Generator) -> dict:
    """Two colours, a texture kind, a scale (metres) and a random 3D frame
    (the texture is a solid texture evaluated at the world hit point)."""
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return dict(
        colours=np.stack([random_colour(rng),
                          random_colour(rng)]),
        texture=TEXTURES[rng.integers(len(TEXTURES))],
        scale=float(np.exp(rng.uniform(math.log(0.08), math.log(0.6)))),
        frame=q,
        phase=rng.uniform(0, 2 * math.pi, size=3))


def blend_material(own: dict, shared: dict, difficulty: float,
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


def texture_albedo(material: dict, p: np.ndarray) -> np.ndarray:
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
