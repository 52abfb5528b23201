"""Data items shared by the segmentation datasets."""
import os.path as osp
from typing import Optional

from ...structures import DEPTH_PATH


def depth_map_path_if_any(depth_dir: Optional[str], stem: str) -> dict:
    """``{'depth_map_path': path}`` when ``depth_dir/stem.png`` exists, else
    ``{}`` (for mmseg's ``LoadDepthAnnotation``)."""
    if depth_dir is None:
        return {}
    path = osp.join(depth_dir, stem + '.png')
    return {DEPTH_PATH: path} if osp.isfile(path) else {}


def seg_frame_info(img_path: str, seg_map_path: str,
                   label_map: Optional[dict], reduce_zero_label: bool,
                   **extra) -> dict:
    """One item of a segmentation data list (what ``BaseSegDataset`` lists)."""
    return dict(
        img_path=img_path,
        seg_map_path=seg_map_path,
        label_map=label_map,
        reduce_zero_label=reduce_zero_label,
        seg_fields=[],
        **extra)
