"""Depth maps with a colour bar and a unit, crop boxes in words, and the
figure of a training sample: the whole image and depth with the crop box
of each view, then each view with its depth (``browse_dataset.py``)."""
from typing import Optional, Sequence, Tuple

import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..coord import coord_to_pixel_box

#: Colour map of depth (near: dark blue, far: dark red; no magenta, the
#: colour of the overlays drawn on it).
DEPTH_CMAP = 'turbo'
#: Colour of invalid depth (0, NaN): none of the map's colours.
INVALID_DEPTH_COLOR = 'white'
#: Outline colour of each view's crop box (drawn over a white stroke, so
#: that it shows on any image).
VIEW_COLORS = ('magenta', 'black')


def depth_label(kind: str = 'metric') -> str:
    """Colour-bar label of a depth kind
    (:data:`~projects.depth_pixpro.depth_kinds.DEPTH_KINDS`)."""
    if kind == 'metric':
        return 'depth (m)'
    return f'depth ({kind}, no unit)'


def depth_color_range(depths: Sequence[np.ndarray]) -> Tuple[float, float]:
    """One colour range for several depth maps: their valid values' min
    and max ((0, 1) when none is valid)."""
    valid = np.concatenate([np.asarray(d)[np.asarray(d) > 0].ravel()
                            for d in depths])
    if valid.size == 0:
        return 0., 1.
    low, high = float(valid.min()), float(valid.max())
    return low, max(high, low + 1e-6)


def show_depth(ax, depth: np.ndarray, vrange: Tuple[float, float]):
    """Draw a depth map (invalid = :data:`INVALID_DEPTH_COLOR`).

    Returns:
        matplotlib.image.AxesImage: For :func:`add_depth_colorbar`.
    """
    depth = np.asarray(depth, dtype=np.float32)
    ax.set_facecolor(INVALID_DEPTH_COLOR)
    return ax.imshow(np.ma.masked_where(~(depth > 0), depth),
                     cmap=DEPTH_CMAP, vmin=vrange[0], vmax=vrange[1],
                     interpolation='nearest')


def add_depth_colorbar(fig: Figure, image, axes: Sequence,
                       label: str = 'depth (m)') -> None:
    """A colour bar at the right of ``axes`` (one row of depth panels),
    as tall as they are; call after the layout is final."""
    boxes = [ax.get_position() for ax in axes]
    right = max(b.x1 for b in boxes)
    bottom, top = min(b.y0 for b in boxes), max(b.y1 for b in boxes)
    cax = fig.add_axes([right + 0.008, bottom, 0.012, top - bottom])
    bar = fig.colorbar(image, cax=cax)
    bar.set_label(f'{label}; {INVALID_DEPTH_COLOR} = invalid', fontsize=7)
    bar.ax.tick_params(labelsize=6)


def describe_crop(coord) -> str:
    """A crop box in words: ``x 0.03-0.77, y 0.02-0.89, flipped`` (the
    fractions of the image it spans; a flipped box is stored with its x
    corners swapped, which reads like a bug as numbers)."""
    x0, y0, x1, y1, flipped = coord_to_pixel_box(coord, (2, 2))
    text = f'x {x0:.2f}-{x1:.2f}, y {y0:.2f}-{y1:.2f}'
    return text + (', flipped' if flipped else '')


def build_views_figure(image: np.ndarray,
                       depth: Optional[np.ndarray],
                       views: Sequence[np.ndarray],
                       view_depths: Optional[Sequence[np.ndarray]],
                       coords: Sequence,
                       title: str = '',
                       label: str = 'depth (m)',
                       panel_inches: float = 2.4,
                       dpi: int = 100) -> Figure:
    """The image a sample's views were cut from, with each view's crop box,
    and the views; a second row with the depth maps (one colour range and
    bar for all of them).

    Args:
        image (np.ndarray): HxWx3 RGB uint8, the image before the views.
        depth (np.ndarray, optional): Its HxW depth (0 = invalid); None: a
            sample without depth (one row).
        views (Sequence[np.ndarray]): Each view, hxwx3 RGB uint8.
        view_depths (Sequence[np.ndarray], optional): Their depth maps.
        coords (Sequence): Each view's crop box (PixPro's ``coord``).
        title (str): Figure title.
        label (str): Colour-bar label (:func:`depth_label`).
        panel_inches (float): Size of one panel.
        dpi (int): Resolution.

    Returns:
        Figure: ``2 x (1 + views)`` panels (1 row without depth); each box
        is a ``Rectangle`` of the first panel (and of the first depth
        panel), in :data:`VIEW_COLORS` order.
    """
    rows = [(image, views)]
    if depth is not None:
        rows.append((depth, view_depths))
        vrange = depth_color_range([depth, *view_depths])
    n_cols = 1 + len(views)
    fig = Figure(figsize=(n_cols * panel_inches + 0.6,
                          len(rows) * panel_inches + 0.5), dpi=dpi)
    depth_axes, shown = [], None
    for r, (whole, parts) in enumerate(rows):
        for c, panel in enumerate([whole, *parts]):
            ax = fig.add_subplot(len(rows), n_cols, r * n_cols + c + 1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.imshow(panel, interpolation='nearest')
            else:
                shown = show_depth(ax, panel, vrange)
                depth_axes.append(ax)
            if c == 0:
                for i, coord in enumerate(coords):
                    x0, y0, x1, y1, flipped = coord_to_pixel_box(
                        coord, whole.shape[:2])
                    ax.add_patch(Rectangle(
                        (x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1,
                        fill=False, lw=1.5, ls='--' if i else '-',
                        ec=VIEW_COLORS[i % len(VIEW_COLORS)],
                        path_effects=[patheffects.withStroke(
                            linewidth=3, foreground='white')]))
                if r == 0:
                    ax.set_title('image, crop boxes', fontsize=8)
            elif r == 0:
                ax.set_title(f'view {c}: {describe_crop(coords[c - 1])}',
                             fontsize=7,
                             color=VIEW_COLORS[(c - 1) % len(VIEW_COLORS)])
    if title:
        fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=1 - 0.6 / (n_cols * panel_inches +
                                                    0.6),
                        bottom=0.01, wspace=0.04, hspace=0.12,
                        top=1 - 0.5 / (len(rows) * panel_inches + 0.5) - 0.03)
    if depth_axes:
        add_depth_colorbar(fig, shown, depth_axes, label)
    return fig
