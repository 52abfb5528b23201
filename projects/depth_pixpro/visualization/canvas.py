"""Matplotlib figures rendered off-screen, and PNG writing (atomic:
``utils/atomic.py``)."""
import io

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..utils.atomic import atomic_write_bytes, write_image_atomic


def figure_to_array(fig: Figure) -> np.ndarray:
    """Render a figure on an Agg canvas.

    Args:
        fig (Figure): A ``matplotlib.figure.Figure`` (no pyplot needed).

    Returns:
        np.ndarray: ``H x W x 3`` uint8 RGB, ``H, W = figsize * dpi``.
    """
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_rgb_png(path: str, image: np.ndarray) -> str:
    """Write an RGB uint8 image as PNG, atomically, creating the folder.

    Returns:
        str: The path written.
    """
    write_image_atomic(path, np.ascontiguousarray(image[..., ::-1]))
    return path


def save_figure(fig: Figure, path: str) -> str:
    """Write a figure (format from the suffix), atomically, creating the
    folder.

    Returns:
        str: The path written.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.rsplit('.', 1)[-1])
    atomic_write_bytes(buffer.getvalue(), path)
    return path


def to_display_rgb(img, bgr: bool = True) -> np.ndarray:
    """A packed view (CHW tensor or HWC array, uint8) as HWC RGB uint8.

    Args:
        img (Tensor | np.ndarray): ``3 x H x W`` tensor (as packed by
            ``PackRGBDInputs``) or ``H x W x 3`` array.
        bgr (bool): The channels are BGR (mmcv's loading order).
    """
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu().numpy()
        if img.ndim == 3 and img.shape[0] in (1, 3):
            img = img.transpose(1, 2, 0)
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img[..., ::-1] if bgr else img)
