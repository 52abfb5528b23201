"""Positive pixel pairs of two views, as the head computes them, and a
figure of one query cell with its partners.

The masks are the head's own: :func:`compute_pair_masks` is a thin wrapper
of :func:`positive_pair_masks` (models/heads/positive_pairs.py).
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import Tensor

from ..models.heads.positive_pairs import PairMasks, positive_pair_masks
from ..models.utils import DepthMeta
from .canvas import figure_to_array
from .views import add_depth_colorbar, depth_color_range, show_depth

#: Colour of the query cell (outline) and of its partners (filled): absent
#: from the depth colour map and rare in images.
PAIR_COLOR = 'magenta'


def compute_pair_masks(coord: Tensor,
                       depth: Optional[Tensor],
                       size: Sequence[int],
                       spatial_thresh: float = 0.7,
                       filters: Sequence[nn.Module] = (),
                       scale: Optional[dict] = None,
                       views: Tuple[int, int] = (0, 1),
                       depth_meta: Optional[DepthMeta] = None) -> PairMasks:
    """:func:`positive_pair_masks` with the spatial threshold given apart.

    Args:
        coord (Tensor): [N, V, 4] crop boxes.
        depth (Tensor, optional): [N, V, h, w] depths (0 = invalid); None
            disables the filters, as in the head.
        size (Sequence[int]): Feature grid (H, W).
        spatial_thresh (float): T of the spatial test.
        filters (Sequence[nn.Module]): Pair filters (``BasePairFilter``).
        scale (dict, optional): The head's scale dict, for per-scale filter
            thresholds (``depth_thresh``, ``normal_max_angle``).
        views (tuple[int, int]): (query view, key view).
        depth_meta (DepthMeta, optional): Per-sample depth facts (has
            depth, kind, whole-image range), from ``stack_depth``.

    Returns:
        PairMasks: The masks, query bins along dim 1, key bins along dim 2.
    """
    scale = dict(scale or {}, spatial_thresh=spatial_thresh)
    return positive_pair_masks(coord, depth, size, scale, filters, views,
                               depth_meta)


def pair_counts(pairs: PairMasks,
                sample: int = 0,
                cell: Optional[Tuple[int, int]] = None) -> Dict[str, int]:
    """Number of positive pairs of one sample per mask (or of one cell).

    Args:
        pairs (PairMasks): Masks from :func:`compute_pair_masks`.
        sample (int): Index in the batch.
        cell (tuple[int, int], optional): (row, col) of a query cell; None
            counts all pairs.
    """
    out = {}
    for name, mask in pairs.masks.items():
        m = mask[sample]
        if cell is not None:
            m = m[cell[0] * pairs.size[1] + cell[1]]
        out[name] = int(m.sum())
    return out


def select_query_cell(pairs: PairMasks, sample: int = 0) -> Tuple[int, int]:
    """The most telling query cell: the filters remove most of its spatial
    partners (ties: most spatial partners; none: the centre cell).

    Returns:
        tuple[int, int]: (row, col) on the feature grid.
    """
    spatial = pairs.masks['spatial'][sample].sum(1).long()
    removed = spatial - pairs.final[sample].sum(1).long()
    height, width = pairs.size
    if int(spatial.max()) == 0:
        return height // 2, width // 2
    score = removed * (height * width + 1) + spatial
    index = int(torch.argmax(score))
    return index // width, index % width


@torch.no_grad()
def feature_grid_size(backbone: nn.Module,
                      img_hw: Sequence[int],
                      level: int = -1) -> Tuple[int, int]:
    """Feature grid of a backbone output level for an input size.

    For tools that draw pairs without a training step (during training the
    head records its grids: ``MultiScalePixelHead.grid_sizes``). Runs the
    backbone once on zeros in eval mode (BN statistics untouched)
    and restores its training mode.

    Returns:
        tuple[int, int]: (H, W) of ``backbone(x)[level]``.
    """
    was_training = backbone.training
    backbone.eval()
    try:
        param = next(backbone.parameters(), None)
        device = param.device if param is not None else 'cpu'
        outs = backbone(torch.zeros(1, 3, int(img_hw[0]), int(img_hw[1]),
                                    device=device))
    finally:
        backbone.train(was_training)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return tuple(int(s) for s in outs[level].shape[-2:])


def _grid_lines(ax, img_hw: Tuple[int, int], size: Tuple[int, int]) -> None:
    h, w = img_hw
    for r in range(1, size[0]):
        ax.axhline(r * h / size[0] - 0.5, color='white', lw=0.4, alpha=0.5)
    for c in range(1, size[1]):
        ax.axvline(c * w / size[1] - 0.5, color='white', lw=0.4, alpha=0.5)


def _cell_patch(r: int, c: int, img_hw, size, **kwargs) -> Rectangle:
    ch, cw = img_hw[0] / size[0], img_hw[1] / size[1]
    return Rectangle((c * cw - 0.5, r * ch - 0.5), cw, ch, **kwargs)


def draw_pair_figure(*args, **kwargs) -> np.ndarray:
    """:func:`build_pair_figure` rendered to an RGB uint8 array of size
    ``(rows * panel_inches + 0.5) * dpi`` x ``cols * panel_inches * dpi``
    (rows: 2 with depth, else 1; cols: 1 + number of masks)."""
    return figure_to_array(build_pair_figure(*args, **kwargs))


def build_pair_figure(images: Sequence[np.ndarray],
                      depths: Optional[Sequence[np.ndarray]],
                      pairs: PairMasks,
                      cell: Tuple[int, int],
                      sample: int = 0,
                      title: str = '',
                      panel_inches: float = 2.4,
                      dpi: int = 100,
                      label: str = 'depth (m)') -> Figure:
    """Query cell in view 1, its partners in view 2 under each mask.

    Layout: column 0 is the query view with the cell outlined in
    :data:`PAIR_COLOR`; one column per mask shows the key view with the
    partner cells filled in that colour. A second row shows the depth maps
    (one colour range, a colour bar with the unit, invalid = white) with
    the same overlays.

    Args:
        images (Sequence[np.ndarray]): Query and key view, HxWx3 RGB uint8.
        depths (Sequence[np.ndarray], optional): Their depths (HxW).
        pairs (PairMasks): Masks of this view order.
        cell (tuple[int, int]): (row, col) of the query cell.
        sample (int): Index of the sample in the masks' batch.
        title (str): Figure title.
        panel_inches (float): Size of one panel.
        dpi (int): Resolution.
        label (str): Colour-bar label (``visualization.depth_label`` of the
            sample's depth kind).

    Returns:
        Figure: The figure; each partner is a :data:`PAIR_COLOR`
        ``Rectangle`` patch of its panel's axes.
    """
    size = pairs.size
    row, col = cell
    if not (0 <= row < size[0] and 0 <= col < size[1]):
        raise ValueError(f'query cell (x={col}, y={row}) is outside the '
                         f'{size[1]}x{size[0]} feature grid')
    query = row * size[1] + col
    names = pairs.names
    n_rows = 2 if depths is not None else 1
    n_cols = 1 + len(names)
    fig = Figure(figsize=(n_cols * panel_inches,
                          n_rows * panel_inches + 0.5), dpi=dpi)
    counts = pair_counts(pairs, sample, cell)
    if depths is not None:
        depths = [np.asarray(d, dtype=np.float32) for d in depths]
        vrange = depth_color_range(depths)
    depth_axes, shown = [], None
    for r in range(n_rows):
        for c in range(n_cols):
            ax = fig.add_subplot(n_rows, n_cols, r * n_cols + c + 1)
            ax.set_xticks([])
            ax.set_yticks([])
            view = 0 if c == 0 else 1
            hw = images[view].shape[:2]
            if r == 0:
                ax.imshow(images[view], interpolation='nearest')
            else:
                shown = show_depth(ax, depths[view], vrange)
                depth_axes.append(ax)
            _grid_lines(ax, hw, size)
            if c == 0:
                ax.add_patch(_cell_patch(row, col, hw, size, fill=False,
                                         ec=PAIR_COLOR, lw=2.5))
                if r == 0:
                    ax.set_title(f'view 1, cell (x={col}, y={row})',
                                 fontsize=8)
                continue
            mask = pairs.masks[names[c - 1]][sample, query]
            for index in torch.nonzero(mask).flatten().tolist():
                pr, pc = divmod(index, size[1])
                ax.add_patch(_cell_patch(pr, pc, hw, size, fc=PAIR_COLOR,
                                         alpha=0.45, ec=PAIR_COLOR, lw=1))
            if r == 0:
                mask_label = pairs.labels.get(names[c - 1], names[c - 1])
                ax.set_title(f'view 2, {mask_label}: '
                             f'{counts[names[c - 1]]}', fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    # room for the colour bar at the right of the depth row
    right = 0.92 if depth_axes else 0.99
    fig.subplots_adjust(left=0.01, right=right, bottom=0.01,
                        top=1 - 0.5 / (n_rows * panel_inches + 0.5) - 0.03,
                        wspace=0.04, hspace=0.12)
    if depth_axes:
        add_depth_colorbar(fig, shown, depth_axes, label)
    return fig
