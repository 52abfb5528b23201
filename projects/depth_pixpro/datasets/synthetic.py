"""On-the-fly synthetic RGB-D dataset (the embedded default: no files)."""
from typing import Optional, Sequence, Union

from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from ..synthetic import CLASSES, render_scene


@DATASETS.register_module()
class SyntheticRGBDDataset(BaseDataset):
    """Random ray-cast rooms rendered when an item is requested.

    Sample ``i`` is ``render_scene(seed + i, img_size, difficulty)``, so the
    dataset is deterministic and needs no disk. Before the pipeline, the
    results dict holds what ``LoadImageFromFile`` + ``LoadDepth`` would give,
    so pipelines start directly at ``RGBDMultiView``:

    ``img`` (HxWx3 uint8 BGR), ``depth`` (HxW float32 metres),
    ``depth_kind`` (``'metric'``),
    ``gt_seg_map`` (HxW uint8, index into the renderer's ``CLASSES``, 255 =
    ignore), ``K`` (3x3 float32),
    ``pose`` (4x4 float32 camera-to-world), ``img_shape``, ``ori_shape``,
    ``sample_idx``, ``seed``.

    Args:
        num_samples (int): Number of samples (epoch length).
        img_size (int | Sequence[int]): Rendered size, an int for square
            images or ``(H, W)``. Defaults to 128.
        seed (int): Seed of sample 0. Defaults to 0.
        difficulty (float): Renderer difficulty in [0, 1] (how little colour
            and texture separate surfaces). Defaults to 0.5.
        render_options (dict, optional): Extra ``render_scene`` options
            (see ``synthetic.DEFAULT_OPTIONS``).
        cache_renders (bool): Keep every rendered scene in memory (per
            data-loading process), so later epochs pay only for the views:
            about 0.13 MB per 128x128 scene. Defaults to False.
        pipeline (Sequence): Transforms. Defaults to ().
        **kwargs: Other :class:`mmpretrain.datasets.BaseDataset` arguments
            (``indices``, ``serialize_data``, ``lazy_init``, ...).
    """

    METAINFO = dict(classes=CLASSES)

    def __init__(self,
                 num_samples: int,
                 img_size: Union[int, Sequence[int]] = 128,
                 seed: int = 0,
                 difficulty: float = 0.5,
                 render_options: Optional[dict] = None,
                 cache_renders: bool = False,
                 pipeline: Sequence = (),
                 **kwargs) -> None:
        if int(num_samples) < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        if not 0.0 <= difficulty <= 1.0:
            raise ValueError(
                f'difficulty must be in [0, 1], got {difficulty}')
        self.num_samples = int(num_samples)
        self.img_size = ((int(img_size), int(img_size)) if isinstance(
            img_size, int) else tuple(int(s) for s in img_size))
        self.seed = int(seed)
        self.difficulty = float(difficulty)
        self.render_options = dict(render_options or {})
        self.cache_renders = bool(cache_renders)
        self._renders = {}
        super().__init__(ann_file='', pipeline=pipeline, **kwargs)

    def load_data_list(self) -> list:
        """One light item per sample (rendering happens in
        :meth:`prepare_data`)."""
        return [
            dict(sample_idx=i, seed=self.seed + i)
            for i in range(self.num_samples)
        ]

    def prepare_data(self, idx: int):
        """Render sample ``idx`` and run the pipeline on it."""
        results = self.get_data_info(idx)
        scene = self._renders.get(results['seed'])
        if scene is None:
            scene = render_scene(results['seed'], self.img_size,
                                 self.difficulty, **self.render_options)
            if self.cache_renders:
                self._renders[results['seed']] = scene
        results.update(
            # copies: a transform that writes in place must not alter the
            # cached render
            img=scene['img'].copy(),
            depth=scene['depth'].copy(),
            depth_kind='metric',
            gt_seg_map=scene['label'],
            K=scene['K'],
            pose=scene['pose'],
            img_shape=scene['img'].shape[:2],
            ori_shape=scene['img'].shape[:2])
        return self.pipeline(results)

    def extra_repr(self):
        """Extra information printed in ``repr``."""
        return [
            f'Image size: \t{self.img_size}', f'Seed: \t{self.seed}',
            f'Difficulty: \t{self.difficulty}'
        ]
