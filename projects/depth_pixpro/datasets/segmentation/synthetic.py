"""Labels of the synthetic renderer as a segmentation dataset."""
import hashlib
import json
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ...synthetic import CLASSES, PALETTE, render_scene, renderer_fingerprint
from ...utils.atomic import write_image_atomic
from ..depth_io import write_depth_png
from .utils import seg_frame_info

__all__ = ['SyntheticSceneSegDataset', 'SEG_SEED_OFFSET']

#: Segmentation seeds start here, so they never meet the pretraining seeds
#: (the synthetic pretraining set draws seeds from 0 upwards).
SEG_SEED_OFFSET = 10_000_000


def _default_cache_dir() -> str:
    """``$TMPDIR/depth_pixpro_synthetic_seg-<uid>``, created for and owned
    by this user (ValueError naming ``cache_dir`` when another user owns
    it: its scenes could be anything)."""
    uid = os.getuid() if hasattr(os, 'getuid') else None
    folder = osp.join(tempfile.gettempdir(),
                      'depth_pixpro_synthetic_seg' +
                      ('' if uid is None else f'-{uid}'))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if uid is not None and os.stat(folder).st_uid != uid:
        raise ValueError(
            f'the synthetic scene cache {folder} belongs to another user; '
            'set cache_dir= of SyntheticSceneSegDataset to a folder of '
            'yours')
    return folder


def _synthetic_meta() -> dict:
    return dict(classes=tuple(CLASSES), palette=[list(p) for p in PALETTE])


@DATASETS.register_module()
class SyntheticSceneSegDataset(BaseSegDataset):
    """Labels of the synthetic RGB-D renderer as a segmentation dataset.

    Image ``i`` is ``render_scene(seed_offset + first_seed + i, size,
    difficulty)``. It is rendered once into ``cache_dir`` (PNG image, label
    and uint16-mm depth; deterministic, so ranks may share the folder) and
    then read like any file dataset, which keeps mmseg's standard pipelines,
    metrics and visualisation hooks working. The cache folder of a setting
    is keyed by size, difficulty, render options and the renderer's version
    (:func:`renderer_fingerprint`), so a changed renderer renders anew. The
    default cache root is per user and must be owned by the user (another
    user's files in a shared temporary folder are not read). Keep the train
    and val seed ranges (``first_seed`` .. ``first_seed + num_images``)
    disjoint.

    Args:
        num_images (int): Number of scenes.
        first_seed (int): First seed, relative to ``seed_offset``.
        size (tuple[int, int]): ``(H, W)``. Defaults to (128, 128).
        difficulty (float): Renderer difficulty in [0, 1]. Defaults to 0.5.
        seed_offset (int): Defaults to :data:`SEG_SEED_OFFSET` (10_000_000),
            disjoint from pretraining seeds.
        render_options (dict, optional): Extra ``render_scene`` options.
        cache_dir (str, optional): Cache root. Defaults to
            ``$TMPDIR/depth_pixpro_synthetic_seg-<uid>``.
        **kwargs: :class:`BaseSegDataset` arguments (``pipeline``, ...).
    """
    METAINFO = dict()  # filled from synthetic_scenes.CLASSES in __init__

    def __init__(self,
                 num_images: int = 200,
                 first_seed: int = 0,
                 size: Sequence[int] = (128, 128),
                 difficulty: float = 0.5,
                 seed_offset: int = SEG_SEED_OFFSET,
                 render_options: Optional[dict] = None,
                 cache_dir: Optional[str] = None,
                 **kwargs) -> None:
        if num_images <= 0:
            raise ValueError(f'num_images must be > 0, got {num_images}')
        self.num_images = int(num_images)
        self.first_seed = int(first_seed)
        self.size = tuple(int(s) for s in size)
        self.difficulty = float(difficulty)
        self.seed_offset = int(seed_offset)
        self.render_options = dict(render_options or {})
        self.cache_dir = cache_dir or _default_cache_dir()
        metainfo = _synthetic_meta()
        metainfo.update(kwargs.pop('metainfo', None) or {})
        super().__init__(
            img_suffix='.png', seg_map_suffix='.png', metainfo=metainfo,
            **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        # METAINFO is only known at run time: compare against the renderer's.
        old = _synthetic_meta()['classes']
        if new_classes is None or list(new_classes) == list(old):
            return None
        if not set(new_classes).issubset(old):
            raise ValueError(f'classes {new_classes} are not a subset of the '
                             f'synthetic classes {old}')
        return {i: (new_classes.index(c) if c in new_classes else 255)
                for i, c in enumerate(old)}

    def _scene_dir(self) -> str:
        key = json.dumps(
            dict(d=self.difficulty, o=self.render_options,
                 renderer=renderer_fingerprint()), sort_keys=True)
        digest = hashlib.sha1(key.encode()).hexdigest()[:8]
        return osp.join(self.cache_dir,
                        f'{self.size[0]}x{self.size[1]}_{digest}')

    def _render_missing(self, folder: str, seed: int) -> Dict[str, str]:
        paths = {
            kind: osp.join(folder, kind, f'{seed:09d}.png')
            for kind in ('img', 'label', 'depth')
        }
        if all(osp.isfile(p) for p in paths.values()):
            return paths
        scene = render_scene(
            seed, size=self.size, difficulty=self.difficulty,
            **self.render_options)
        # atomic writes: ranks sharing the cache never read a partial file
        write_image_atomic(paths['img'], scene['img'])
        write_image_atomic(paths['label'], scene['label'].astype(np.uint8))
        write_depth_png(paths['depth'], scene['depth'])
        return paths

    def load_data_list(self) -> List[dict]:
        folder = self._scene_dir()
        data_list = []
        for i in range(self.num_images):
            seed = self.seed_offset + self.first_seed + i
            paths = self._render_missing(folder, seed)
            data_list.append(
                seg_frame_info(
                    paths['img'], paths['label'], self.label_map,
                    self.reduce_zero_label,
                    depth_map_path=paths['depth'],
                    seed=seed))
        return data_list
