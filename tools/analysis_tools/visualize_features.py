"""Dense backbone features of a pretraining checkpoint: PCA-RGB images and
cosine-similarity maps to chosen pixels; two checkpoints side by side::

    python tools/analysis_tools/visualize_features.py \
        work_dirs/depth_pixpro_synthetic/iter_300.pth img1.png img2.png \
        --out work_dirs/vis_features --points 32,32 96,64
    # compare with another run (e.g. PixPro) on the same images
    python tools/analysis_tools/visualize_features.py A.pth img.png \
        --compare B.pth

The model config is read from the checkpoint (mmengine stores it as text in
``meta['cfg']``) as literals, never executed, and only its ``model`` and
``data_preprocessor`` are used, with registered component names only (an
import path such as ``type='os.system'`` is refused); ``--config`` overrides
it (needed for bare state dicts). Weights load with
``torch.load(weights_only=True)``.
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import projects.depth_pixpro  # noqa: F401,I001  (registers; compat first)
import mmcv
import numpy as np
import torch
from matplotlib.figure import Figure
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import track_iter_progress
from mmpretrain.registry import MODELS, WEIGHT_INITIALIZERS

from projects.depth_pixpro.checkpoint import load_checkpoint_file
from projects.depth_pixpro.utils.scripts import (check_registered_types,
                                                 literal_config)
from projects.depth_pixpro.visualization import (
    cosine_similarity_map, figure_to_array, pca_rgb, save_rgb_png)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='PCA and similarity maps of dense backbone features')
    parser.add_argument('checkpoint', help='pretraining checkpoint (.pth)')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument('--config', help='config of the checkpoint (default: '
                        'the one stored in the checkpoint)')
    parser.add_argument('--compare', help='second checkpoint shown beside')
    parser.add_argument('--compare-config', help='config of --compare')
    parser.add_argument('--points', nargs='+', default=None,
                        metavar='X,Y', help='reference pixels in the resized '
                        'image (default: its centre)')
    parser.add_argument('--img-size', type=int, default=224,
                        help='longer side of the network input (rounded to '
                        'a multiple of 32)')
    parser.add_argument('--level', type=int, default=-1,
                        help='backbone output level')
    parser.add_argument('--out', default='work_dirs/vis_features',
                        help='output folder')
    return parser.parse_args(argv)


def model_config(checkpoint: dict, path: str,
                 config: Optional[str]) -> Config:
    """The config to build the model with: ``--config`` or the stored one."""
    if config:
        return Config.fromfile(config)
    text = checkpoint.get('meta', {}).get('cfg') \
        if isinstance(checkpoint, dict) else None
    if not isinstance(text, str):
        raise ValueError(f'{path} carries no config (meta["cfg"]); pass the '
                         'config it was trained with: --config CONFIG')
    try:  # the text came with the file: read it, never execute it
        stored = literal_config(text)
    except ValueError as e:
        raise ValueError(f'{path}: the stored config is not plain literals '
                         f'({e}); pass --config CONFIG') from e
    scope = stored.get('default_scope', 'mmpretrain')
    if scope != 'mmpretrain':  # a scope imports <scope>.registry
        raise ValueError(f'{path}: the stored config has default_scope='
                         f'{scope!r}, not a pretraining config '
                         "('mmpretrain'); pass --config CONFIG")
    if not isinstance(stored.get('model'), dict):
        raise ValueError(f'{path}: the stored config has no model dict; '
                         'pass --config CONFIG')
    # only what the model is built from, with registered names only
    used = dict(model=stored['model'],
                data_preprocessor=stored.get('data_preprocessor'))
    check_registered_types(used, (MODELS, WEIGHT_INITIALIZERS), path)
    return Config(dict(used, default_scope=scope))


def load_model(path: str, config: Optional[str] = None) -> torch.nn.Module:
    """Build the pretraining model of a checkpoint and load its weights.

    Args:
        path (str): Checkpoint file (mmengine checkpoint or a state dict).
        config (str, optional): Config file; default: the stored one.

    Returns:
        nn.Module: The model in eval mode, on CPU.
    """
    checkpoint = load_checkpoint_file(path, map_location='cpu')
    cfg = model_config(checkpoint, path, config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    # the checkpoint has the weights: no pretrained download/init
    model_cfg.get('backbone', {}).pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    state = checkpoint.get('state_dict', checkpoint)
    # only the backbone is shown: it must fit exactly, the rest may not
    own = model.state_dict()
    wrong = [k for k in own if k.startswith('backbone.') and
             (k not in state or state[k].shape != own[k].shape)]
    if wrong:
        raise ValueError(
            f'{path} does not fit the config: {len(wrong)} backbone '
            f'weights missing or of another shape (e.g. {wrong[0]}); pass '
            'the matching --config')
    model.load_state_dict({k: v for k, v in state.items()
                           if k in own and v.shape == own[k].shape},
                          strict=False)
    return model.eval()


def prepare_image(path: str, img_size: int, model) -> Tuple[np.ndarray,
                                                               torch.Tensor]:
    """Read, resize (longer side ``img_size``, multiples of 32) and
    normalise an image as the model's data preprocessor does.

    Returns:
        tuple: RGB uint8 HxWx3 image, normalised 1x3xHxW tensor.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path} does not exist')
    bgr = mmcv.imread(path, channel_order='bgr')
    if bgr is None:
        raise ValueError(f'cannot decode image {path}')
    h, w = bgr.shape[:2]
    ratio = img_size / max(h, w)
    new_h = max(32, int(round(h * ratio / 32)) * 32)
    new_w = max(32, int(round(w * ratio / 32)) * 32)
    bgr = mmcv.imresize(bgr, (new_w, new_h))
    rgb = bgr[..., ::-1].copy()
    pre = model.data_preprocessor
    img = rgb if getattr(pre, '_channel_conversion', True) else bgr
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float()
    if getattr(pre, '_enable_normalize', False):
        x = (x - pre.mean.cpu()) / pre.std.cpu()
    return rgb, x[None]


@torch.no_grad()
def dense_features(model, x: torch.Tensor, level: int) -> torch.Tensor:
    """``C x H x W`` backbone features of one image.

    Raises:
        ValueError: ``level`` is not one of the backbone's outputs.
    """
    outs = model.backbone(x)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    if not -len(outs) <= level < len(outs):
        indices = getattr(model.backbone, 'out_indices', None)
        raise ValueError(
            f'--level {level}: the backbone gives {len(outs)} output '
            f'level(s) (out_indices {indices}); use 0..{len(outs) - 1} or '
            f'-{len(outs)}..-1')
    return outs[level][0]


def parse_points(points: Optional[Sequence[str]],
                 img_hw: Tuple[int, int]) -> List[Tuple[int, int]]:
    """``'x,y'`` strings -> (x, y) pixels; default: the image centre."""
    if not points:
        return [(img_hw[1] // 2, img_hw[0] // 2)]
    parsed = []
    for text in points:
        try:
            x, y = (int(float(v)) for v in text.split(','))
        except ValueError:
            raise ValueError(f'--points takes X,Y pairs, got {text!r}')
        if not (0 <= x < img_hw[1] and 0 <= y < img_hw[0]):
            raise ValueError(f'point {text} is outside the resized image '
                             f'({img_hw[1]}x{img_hw[0]})')
        parsed.append((x, y))
    return parsed


def draw_features(rgb: np.ndarray, columns: List[Tuple[str, torch.Tensor]],
                  points: List[Tuple[int, int]], title: str = '',
                  panel_inches: float = 2.2, dpi: int = 100) -> np.ndarray:
    """One row per model: image with points | PCA | one map per point.

    Returns:
        np.ndarray: RGB uint8 of ``(rows * panel + 0.4) x
        ((2 + len(points)) * panel)`` inches at ``dpi``.
    """
    h, w = rgb.shape[:2]
    n_cols = 2 + len(points)
    n_rows = len(columns)
    fig = Figure(figsize=(n_cols * panel_inches, n_rows * panel_inches + 0.4),
                 dpi=dpi)
    colors = ['red', 'cyan', 'yellow', 'magenta', 'lime', 'orange']
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    for r, (name, feats) in enumerate(columns):
        fh, fw = feats.shape[-2:]
        ax = fig.add_subplot(n_rows, n_cols, r * n_cols + 1)
        ax.imshow(rgb)
        for i, (x, y) in enumerate(points):
            ax.plot(x, y, 'o', ms=6, mec='black',
                    mfc=colors[i % len(colors)])
        ax.set_title(name, fontsize=8)
        ax = fig.add_subplot(n_rows, n_cols, r * n_cols + 2)
        ax.imshow(pca_rgb(feats), extent=extent, interpolation='nearest')
        ax.set_title(f'PCA of {fh}x{fw} features', fontsize=8)
        for i, (x, y) in enumerate(points):
            row = min(int(y * fh / h), fh - 1)
            col = min(int(x * fw / w), fw - 1)
            ax = fig.add_subplot(n_rows, n_cols, r * n_cols + 3 + i)
            sim = cosine_similarity_map(feats, row, col)
            # post-ReLU features have cosines in [0, 1]: stretch the range
            ax.imshow(sim, cmap='magma', vmin=min(float(sim.min()), 0.99),
                      vmax=1, extent=extent, interpolation='nearest')
            ax.plot(x, y, 'o', ms=6, mec='black',
                    mfc=colors[i % len(colors)])
            ax.set_title(f'cosine to ({x},{y})', fontsize=8)
    for ax in fig.axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01,
                        top=1 - 0.4 / (n_rows * panel_inches + 0.4) - 0.04,
                        wspace=0.04, hspace=0.15)
    return figure_to_array(fig)


def row_labels(paths: Sequence[str]) -> List[str]:
    """The shortest trailing parts of the checkpoint paths that tell them
    apart (two ``iter_300.pth``: ``pixpro_synthetic/iter_300.pth`` and
    ``depth_pixpro_synthetic/iter_300.pth``); the same file twice is
    numbered."""
    parts = [osp.abspath(p).split(os.sep) for p in paths]
    for depth in range(1, max(len(p) for p in parts) + 1):
        names = ['/'.join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [f'{name} ({i + 1})' for i, name in enumerate(names)]


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    paths = [args.checkpoint] + ([args.compare] if args.compare else [])
    names = row_labels(paths)
    configs = [args.config, args.compare_config]
    models = [(name, load_model(path, config))
              for name, path, config in zip(names, paths, configs)]
    written = []
    for path in track_iter_progress(list(args.images)):
        rows, rgb = [], None
        for name, model in models:
            rgb, x = prepare_image(path, args.img_size, model)
            rows.append((name, dense_features(model, x, args.level)))
        points = parse_points(args.points, rgb.shape[:2])
        figure = draw_features(rgb, rows, points, title=osp.basename(path))
        stem = osp.splitext(osp.basename(path))[0]
        written.append(save_rgb_png(
            osp.join(args.out, f'{stem}_features.png'), figure))
    print(f'\nsaved {len(written)} image(s) to {args.out}')
    return written


if __name__ == '__main__':
    main()
