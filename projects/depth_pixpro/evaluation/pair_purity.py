"""Pair purity: how often the positive pairs of a filter join one class.

The counting; the tool ``tools/analysis_tools/pair_purity.py`` writes its
table, and :mod:`projects.depth_pixpro.visualization.purity` draws it.

For a pair of views of a labelled RGB-D image, every feature-grid cell gets
the majority label of its pixels (cells whose majority is unlabelled are
left out), and for each scale's spatial positives (PixPro's test at T) and
each filter setting we count

* purity = P(same class | pair kept),
* recall = P(kept | same-class spatial pair),
* kept pairs per image (all kept pairs, labelled or not).

The masks are the head's own (:class:`PositivePairs`, as used by
:func:`positive_pair_masks` and the head), so what is counted is what is
trained on. Pairs are counted in the (view 1, view 2) order only: every
test is symmetric, so the other order counts the same pairs again.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..models.heads.positive_pairs import PositivePairs

#: Label value of unlabelled pixels (mmseg's ``ignore_index``).
IGNORE_INDEX = 255


def cell_majority_labels(label: Tensor, size: Sequence[int],
                         num_classes: int) -> Tensor:
    """Majority class of each cell of an (H, W) grid.

    Cells are the bins of ``F.adaptive_avg_pool2d`` (those of the depth
    pooling). Values outside ``[0, num_classes)`` (255 = ignore) are
    unlabelled and take part in the vote as one more class: a cell whose
    majority is unlabelled gets -1. Ties go to the smallest class id, and
    a labelled class beats unlabelled pixels on a tie.

    Args:
        label (Tensor): [N, h, w] integer label maps.
        size (Sequence[int]): Grid size (H, W).
        num_classes (int): Number of classes K.

    Returns:
        Tensor: long [N, H*W], class id or -1.
    """
    if label.dim() != 3:
        raise ValueError(f'label must be [N, h, w], got {tuple(label.shape)}')
    label = label.long()
    label = torch.where((label >= 0) & (label < num_classes), label,
                        torch.full_like(label, num_classes))
    onehot = F.one_hot(label, num_classes + 1).permute(0, 3, 1, 2).float()
    votes = F.adaptive_avg_pool2d(onehot, tuple(int(s) for s in size))
    majority = votes.flatten(2).argmax(dim=1)  # first max: smallest id
    return torch.where(majority == num_classes, torch.full_like(majority, -1),
                       majority)


def pair_agreement(cells_q: Tensor, cells_k: Tensor) -> Tuple[Tensor, Tensor]:
    """Which (query cell, key cell) pairs hold the same class.

    Args:
        cells_q (Tensor): [N, HW] majority labels of the query view (-1 =
            unlabelled), from :func:`cell_majority_labels`.
        cells_k (Tensor): [N, HW] those of the key view.

    Returns:
        tuple[Tensor, Tensor]: ``same`` and ``labelled`` (both cells have a
        class), bool [N, HW, HW]; ``same`` implies ``labelled``.
    """
    labelled = (cells_q >= 0)[:, :, None] & (cells_k >= 0)[:, None, :]
    same = (cells_q[:, :, None] == cells_k[:, None, :]) & labelled
    return same, labelled


@dataclass
class PurityCounts:
    """Running pair counts of one (scale, filter setting).

    Attributes:
        kept (int): Kept pairs (labelled or not).
        kept_labelled (int): Kept pairs whose cells both have a class.
        kept_same (int): Kept pairs of one class.
        spatial_same (int): Spatial positives of one class (the recall's
            denominator).
        images (int): Images (view pairs) counted.
    """
    kept: int = 0
    kept_labelled: int = 0
    kept_same: int = 0
    spatial_same: int = 0
    images: int = 0

    def update(self, kept: Tensor, spatial: Tensor, same: Tensor,
               labelled: Tensor) -> None:
        """Add a batch of images (all bool [N, HW, HW])."""
        self.kept += int(kept.sum())
        self.kept_labelled += int((kept & labelled).sum())
        self.kept_same += int((kept & same).sum())
        self.spatial_same += int((spatial & same).sum())
        self.images += int(kept.size(0))

    @property
    def purity(self) -> float:
        """P(same class | kept); NaN without a kept labelled pair."""
        return _ratio(self.kept_same, self.kept_labelled)

    @property
    def recall(self) -> float:
        """P(kept | same-class spatial pair); NaN without one."""
        return _ratio(self.kept_same, self.spatial_same)

    @property
    def kept_per_image(self) -> float:
        return _ratio(self.kept, self.images)


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


@dataclass
class FilterSetting:
    """One point of a filter family's sweep.

    Attributes:
        family (str): Curve name, e.g. ``'relative/median'``.
        filt: The pair filter (``BasePairFilter``), or a list of filters
            (all must pass, as in the head); None = spatial test alone.
        thresh (float, optional): Threshold of the filter at this point;
            None: each filter at each scale's own threshold
            (:attr:`ScaleSpec.overrides`, else the filter's), i.e. the
            positives a config trains on.
    """
    family: str
    filt: Optional[Union[torch.nn.Module, Sequence[torch.nn.Module]]] = None
    thresh: Optional[float] = math.inf

    @property
    def name(self) -> str:
        if self.filt is None or self.thresh is None:
            return self.family
        return f'{self.family} {self.thresh:g}'

    @property
    def filters(self) -> list:
        """The filters as a list (empty for the spatial test alone)."""
        if self.filt is None:
            return []
        return list(self.filt) if isinstance(self.filt,
                                             (list, tuple)) else [self.filt]

    def scale_dict(self, scale: 'ScaleSpec') -> dict:
        """The head-style scale dict of this setting at ``scale``."""
        out = dict(spatial_thresh=scale.spatial_thresh)
        if self.thresh is None:
            out.update(scale.overrides)
        else:
            out.update({f.scale_key: self.thresh for f in self.filters})
        return out


@dataclass
class ScaleSpec:
    """A scale of the head: its spatial threshold T on a feature grid.

    Attributes:
        name (str): Row/panel label, e.g. ``'T=0.7'``.
        spatial_thresh (float): T.
        size (tuple[int, int]): Feature grid (H, W) of the scale's level.
        overrides (dict): The head scale's per-filter thresholds (e.g.
            ``depth_thresh``), for settings "as configured".
    """
    name: str
    spatial_thresh: float
    size: Tuple[int, int]
    overrides: dict = field(default_factory=dict)


@dataclass
class PurityResult:
    """Counts per (scale name, setting name)."""
    scales: List[ScaleSpec]
    settings: List[FilterSetting]
    counts: Dict[Tuple[str, str], PurityCounts] = field(default_factory=dict)

    def get(self, scale: str, setting: str) -> PurityCounts:
        return self.counts.setdefault((scale, setting), PurityCounts())

    def families(self) -> List[str]:
        """The settings' family names in order of first appearance."""
        out = []
        for s in self.settings:
            if s.family not in out:
                out.append(s.family)
        return out

    def rows(self) -> List[dict]:
        """One dict per (scale, setting): scale, T, setting, family,
        thresh, purity, recall, kept per image, raw counts."""
        rows = []
        for scale in self.scales:
            for s in self.settings:
                c = self.get(scale.name, s.name)
                rows.append(
                    dict(scale=scale.name,
                         T=scale.spatial_thresh,
                         grid=list(scale.size),
                         setting=s.name,
                         family=s.family,
                         thresh=s.thresh,
                         purity=c.purity,
                         recall=c.recall,
                         kept_per_image=c.kept_per_image,
                         counts=dict(c.__dict__)))
        return rows


def count_view_pair(result: PurityResult,
                    coord: Tensor,
                    depth: Optional[Tensor],
                    label: Tensor,
                    num_classes: int,
                    depth_meta=None) -> None:
    """Add a batch of view pairs to ``result``.

    Args:
        result (PurityResult): Counts to update.
        coord (Tensor): [N, 2, 4] crop boxes of the views.
        depth (Tensor, optional): [N, 2, h, w] view depths, 0 = invalid;
            None: every filter lets every pair through (as in the head).
        label (Tensor): [N, 2, h, w] view label maps (255 = unlabelled).
        num_classes (int): Number of classes.
        depth_meta (DepthMeta, optional): Per-sample depth facts (kind,
            whole-image range for ``'normalized'``), as in the head.
    """
    by_size: Dict[Tuple[int, int], List[ScaleSpec]] = {}
    for scale in result.scales:
        by_size.setdefault(tuple(scale.size), []).append(scale)
    # settings sharing a filter share its work (one PositivePairs each)
    pairs = {None: PositivePairs(coord)}
    for s in result.settings:
        if s.filt is not None and id(s.filt) not in pairs:
            pairs[id(s.filt)] = PositivePairs(coord, depth, s.filters,
                                              depth_meta)
    for size, scales in by_size.items():
        same, labelled = pair_agreement(
            cell_majority_labels(label[:, 0], size, num_classes),
            cell_majority_labels(label[:, 1], size, num_classes))
        tests = {key: p.tests((0, 1), size) for key, p in pairs.items()}
        for scale in scales:
            t = scale.spatial_thresh
            spatial = tests[None].masks(dict(spatial_thresh=t)).spatial
            for s in result.settings:
                if s.filt is None:
                    kept = spatial
                else:
                    kept = tests[id(s.filt)].masks(s.scale_dict(scale)).final
                result.get(scale.name, s.name).update(kept, spatial, same,
                                                      labelled)


def sample_labelled_views(multiview, img: np.ndarray, depth: np.ndarray,
                          label: np.ndarray) -> Optional[dict]:
    """Two views of one labelled RGB-D image by a config's view pipeline.

    The label map rides through ``multiview`` (an ``RGBDMultiView``) as a
    second channel of the depth, so it gets exactly the views' crop boxes,
    flips and nearest-neighbour resizing.

    Args:
        multiview: The config's ``RGBDMultiView`` transform.
        img (np.ndarray): HxWx3 uint8 BGR image.
        depth (np.ndarray): HxW float32 depth, 0 = invalid.
        label (np.ndarray): HxW integer labels (255 = unlabelled).

    Returns:
        dict | None: ``coord`` float32 [2, 4], ``depth`` float32
        [2, h, w], ``label`` long [2, h, w] tensors; None if a transform
        dropped the sample.
    """
    if depth.shape[:2] != img.shape[:2] or label.shape[:2] != img.shape[:2]:
        raise ValueError(f'image {img.shape[:2]}, depth {depth.shape[:2]} '
                         f'and label {label.shape[:2]} must be aligned')
    both = np.stack([depth.astype(np.float32),
                     label.astype(np.float32)],
                    axis=-1)
    out = multiview(
        dict(img=img,
             depth=both,
             img_shape=img.shape[:2],
             ori_shape=img.shape[:2]))
    if out is None:
        return None
    stacked = torch.from_numpy(np.ascontiguousarray(out['depth']))
    if stacked.dim() != 4 or stacked.size(0) != 2:
        raise ValueError('the view pipeline must give 2 views, got depth '
                         f'of shape {tuple(stacked.shape)}')
    return dict(coord=torch.as_tensor(np.asarray(out['coord'], np.float32)),
                depth=stacked[..., 0].contiguous(),
                label=stacked[..., 1].round().long())


def default_settings(build_filter) -> List[FilterSetting]:
    """The sweep of the tool: spatial alone, the relative depth test with
    each cell statistic, the absolute and normalised modes, the same-surface
    test and the normal filter.

    Args:
        build_filter (callable): Builds a filter from its config dict (e.g.
            ``MODELS.build``).
    """
    taus = (0.02, 0.05, 0.1, 0.2, 0.3)
    families = [
        ('relative/mean', dict(mode='relative', pool='mean'), taus),
        ('relative/median', dict(mode='relative', pool='median'), taus),
        ('relative/center', dict(mode='relative', pool='center'), taus),
        ('absolute/mean (m)', dict(mode='absolute', pool='mean'),
         (0.1, 0.25, 0.5, 1., 2.)),
        ('normalized/mean', dict(mode='normalized', pool='mean'), taus),
        ('surface', dict(type='SurfacePairFilter'), taus),
        ('normal (deg)', dict(type='NormalPairFilter'), (15, 30, 45, 60)),
    ]
    settings = [FilterSetting('spatial')]
    for family, cfg, thresholds in families:
        filt = build_filter(dict(dict(type='DepthPairFilter'), **cfg))
        settings += [FilterSetting(family, filt, t) for t in thresholds]
    return settings
