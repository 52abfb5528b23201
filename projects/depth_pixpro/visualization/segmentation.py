"""A segmentation result as a figure: the image, the ground truth and the
prediction side by side, blended with the dataset's palette, and a legend
of the classes shown (names written on the regions, as mmseg's visualizer
does, overlap on small images)."""
from typing import Optional, Sequence

import cv2
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch


def blend_labels(image: np.ndarray, labels: np.ndarray,
                 palette: np.ndarray, alpha: float = 0.5,
                 ignore_index: int = 255) -> np.ndarray:
    """``(1 - alpha) * image + alpha * palette[label]``; ignored pixels
    (and labels without a colour) keep the image.

    Args:
        image (np.ndarray): HxWx3 RGB uint8.
        labels (np.ndarray): HxW class ids (resized to the image with
            nearest if another size).
        palette (np.ndarray): Kx3 RGB uint8, one colour per class.
        alpha (float): Weight of the class colour.
        ignore_index (int): Unlabelled pixels.

    Returns:
        np.ndarray: HxWx3 RGB uint8.
    """
    labels = np.asarray(labels)
    if labels.shape != image.shape[:2]:
        labels = cv2.resize(labels.astype(np.int32),
                            (image.shape[1], image.shape[0]),
                            interpolation=cv2.INTER_NEAREST)
    palette = np.asarray(palette, dtype=np.float32)
    coloured = (labels >= 0) & (labels < len(palette)) & \
        (labels != ignore_index)
    out = image.astype(np.float32)
    out[coloured] = (1 - alpha) * out[coloured] + \
        alpha * palette[labels[coloured]]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def build_segmentation_figure(image: np.ndarray,
                              gt: Optional[np.ndarray],
                              pred: np.ndarray,
                              classes: Sequence[str],
                              palette: np.ndarray,
                              title: str = '',
                              alpha: float = 0.5,
                              ignore_index: int = 255,
                              panel_inches: float = 2.4,
                              dpi: int = 100) -> Figure:
    """Image | ground truth | prediction (no ground truth: image |
    prediction), and a legend of every class present in either.

    Returns:
        Figure: one panel per image, the legend below them (a
        ``Patch`` per class, in class order).
    """
    panels = [('image', image)]
    if gt is not None:
        panels.append(('ground truth', blend_labels(image, gt, palette,
                                                    alpha, ignore_index)))
    panels.append(('prediction', blend_labels(image, pred, palette, alpha,
                                              ignore_index)))
    present = set(np.unique(pred).tolist())
    if gt is not None:
        present |= set(np.unique(gt).tolist())
    shown = [k for k in range(len(classes)) if k in present]
    legend_rows = (len(shown) + 3) // 4
    legend_inches = 0.25 * legend_rows + 0.1
    height = panel_inches * image.shape[0] / image.shape[1]
    fig = Figure(figsize=(len(panels) * panel_inches,
                          height + legend_inches + 0.45), dpi=dpi)
    for i, (name, panel) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.imshow(panel, interpolation='nearest')
        ax.set_title(name, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    total = height + legend_inches + 0.45
    fig.subplots_adjust(left=0.01, right=0.99, wspace=0.04,
                        bottom=legend_inches / total,
                        top=1 - 0.45 / total)
    if shown:
        colours = np.asarray(palette, dtype=np.float32) / 255
        fig.legend(handles=[Patch(color=colours[k], label=classes[k])
                            for k in shown],
                   loc='lower center', ncol=min(4, len(shown)), fontsize=7,
                   frameon=False, handlelength=1.2, columnspacing=1.0)
    if title:
        fig.suptitle(title, fontsize=8)
    return fig
