"""Labelled RGB-D frames for analyses: image, depth and label of each frame.

Sources: any mmseg segmentation dataset of the project whose items carry
``depth_map_path`` (``NYUv2Seg13Dataset``, ``ScanNet2DSegDataset``,
``SyntheticSceneSegDataset``, ...), read with the standard loaders (mmcv's
``LoadImageFromFile``, mmseg's ``LoadAnnotations``, the project's
``LoadDepth``), or the synthetic renderer in memory. Where the frames are
is the caller's to say (a dataset config, e.g. with its ``data_root``).
"""
from typing import Optional

from mmengine.registry import DefaultScope


class LabelledFrames:
    """Frames (``img`` BGR uint8, ``depth`` float32 metres, ``label``) of a
    segmentation dataset, loaded once and kept in memory.

    Args:
        dataset (dict): An mmseg dataset config (registered in mmseg's
            registry); its pipeline is ignored.
        num_classes (int, optional): Defaults to the dataset's classes.
    """

    def __init__(self, dataset: dict, num_classes: Optional[int] = None):
        from mmcv.transforms import LoadImageFromFile
        from mmseg.datasets.transforms import LoadAnnotations
        from mmseg.registry import DATASETS

        from .transforms import LoadDepth
        dataset = dict(dataset, pipeline=[])
        with DefaultScope.overwrite_default_scope('mmseg'):
            self.dataset = DATASETS.build(dataset)
        classes = self.dataset.metainfo.get('classes') or ()
        self.num_classes = int(num_classes or len(classes))
        if self.num_classes < 1:
            raise ValueError('the dataset names no classes; pass num_classes')
        self.name = type(self.dataset).__name__
        loaders = [LoadImageFromFile(), LoadDepth(), LoadAnnotations()]
        self.frames = []
        for index in range(len(self.dataset)):
            info = dict(self.dataset.get_data_info(index))
            if not info.get('depth_map_path'):
                raise ValueError(
                    f'{self.name} frame {info.get("img_path")} has no depth '
                    '(no depth_map_path: put a depth/ folder beside the '
                    'images)')
            for load in loaders:
                info = load(info)
            self.frames.append(
                dict(img=info['img'],
                     depth=info['depth'],
                     label=info['gt_seg_map'],
                     name=info['img_path']))

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> dict:
        return self.frames[index]


class RenderedFrames:
    """Synthetic rooms rendered in memory, with their labels.

    Args:
        num_frames (int): Number of scenes.
        img_size (int | tuple): Render size.
        difficulty (float): Renderer difficulty.
        first_seed (int): Seed of frame 0. Defaults to the segmentation
            seeds (``SEG_SEED_OFFSET``), disjoint from pretraining scenes.
        render_options (dict, optional): Extra ``render_scene`` options.
    """

    def __init__(self,
                 num_frames: int,
                 img_size=128,
                 difficulty=0.5,
                 first_seed: Optional[int] = None,
                 render_options: Optional[dict] = None) -> None:
        from ..synthetic import CLASSES
        from .segmentation import SEG_SEED_OFFSET
        self.num_frames = int(num_frames)
        self.img_size = ((int(img_size), ) *
                         2 if isinstance(img_size, int) else tuple(
                             int(s) for s in img_size))
        self.difficulty = float(difficulty)
        self.first_seed = SEG_SEED_OFFSET if first_seed is None else \
            int(first_seed)
        self.render_options = dict(render_options or {})
        self.num_classes = len(CLASSES)
        self.name = (f'synthetic rooms {self.img_size[0]}x{self.img_size[1]}'
                     f' difficulty {self.difficulty:g}')

    def __len__(self) -> int:
        return self.num_frames

    def __getitem__(self, index: int) -> dict:
        from ..synthetic import render_scene
        seed = self.first_seed + index
        scene = render_scene(seed, self.img_size, self.difficulty,
                             **self.render_options)
        return dict(img=scene['img'],
                    depth=scene['depth'],
                    label=scene['label'],
                    name=f'seed {seed}')
