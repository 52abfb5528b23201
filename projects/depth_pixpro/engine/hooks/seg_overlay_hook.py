"""``tools/test.py --show-dir``: one readable figure per test image."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...visualization import build_segmentation_figure, save_figure


def overlay_name(img_path: str, image_root: Optional[str]) -> str:
    """The figure's path relative to the output folder: the image's path
    relative to the dataset's image folder (sub-folders kept, so that
    ``scene0000_00/color/000000.jpg`` and ``scene0001_00/color/000000.jpg``
    stay apart), with ``.png``; the file name alone for an image outside
    it."""
    relative = osp.basename(img_path)
    if image_root:
        inside = osp.relpath(osp.abspath(img_path), osp.abspath(image_root))
        if not inside.startswith(osp.pardir + osp.sep):
            relative = inside
    return osp.splitext(relative)[0] + '.png'


def image_root(dataset) -> Optional[str]:
    """The dataset's image folder: ``data_prefix['img_path']``, which
    mmengine's ``BaseDataset`` has already joined to ``data_root`` (joining
    them again doubled a relative root), else ``data_root``."""
    prefix = (getattr(dataset, 'data_prefix', None) or {}).get('img_path')
    return prefix or getattr(dataset, 'data_root', None) or None


@HOOKS.register_module()
class SegOverlayHook(Hook):
    """Writes, for every test image, ``<out_dir>/<image name>.png``: the
    image, its ground truth and the prediction blended with the dataset's
    palette, and a legend of the classes shown
    (:func:`~projects.depth_pixpro.visualization.build_segmentation_figure`).

    mmseg's ``SegVisualizationHook`` writes
    ``vis_data/vis_image/test_<name>.png_<step>.png`` with class names
    drawn on the regions, which overlap on small images. Main process only.

    Args:
        out_dir (str): Output folder.
        alpha (float): Weight of the class colours. Defaults to 0.5.
    """

    priority = 'NORMAL'

    def __init__(self, out_dir: str, alpha: float = 0.5) -> None:
        self.out_dir = out_dir
        self.alpha = alpha
        self.written = []

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        if not is_main_process():
            return
        dataset = runner.test_dataloader.dataset
        classes = dataset.metainfo['classes']
        palette = dataset.metainfo.get('palette')
        if palette is None or len(palette) < len(classes):
            palette = np.random.default_rng(0).integers(
                0, 256, (len(classes), 3))
        ignore_index = getattr(dataset, 'ignore_index', 255)
        for sample in outputs or ():
            image = mmcv.imread(sample.img_path, channel_order='rgb')
            gt = (sample.gt_sem_seg.data[0].cpu().numpy()
                  if 'gt_sem_seg' in sample else None)
            pred = sample.pred_sem_seg.data[0].cpu().numpy()
            name = overlay_name(sample.img_path, image_root(dataset))
            figure = build_segmentation_figure(
                image, gt, pred, classes, palette, title=name[:-4],
                alpha=self.alpha, ignore_index=ignore_index)
            self.written.append(
                save_figure(figure, osp.join(self.out_dir, name)))
