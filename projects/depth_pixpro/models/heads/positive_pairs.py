"""Positive pixel pairs of two views: PixPro's spatial test AND every filter.

The one owner of the positive masks. :class:`MultiScalePixelHead` trains on
them; the pair visualisation, :class:`PairVisualizationHook` and the analysis
tools draw or count them with :func:`positive_pair_masks`, so what is shown is
what is trained on.

Shapes: ``coord`` [N, V, 4] crop boxes, ``depth`` [N, V, h, w] (0 = invalid)
or None, a feature grid ``size`` (H, W); masks are bool [N, H*W, H*W], query
bins along dim 1, key bins along dim 2. ``depth_meta`` (:class:`DepthMeta`,
from :func:`stack_depth`) says per sample whether it has depth, its kind and
its whole-image range; None means metric depth in every sample.

"No depth" has one meaning: a sample without depth (``has_depth`` False, or
``depth`` None for the whole batch) keeps every spatial positive, whatever
the filters and their ``invalid`` policy -- it is trained exactly as PixPro.

The view orders are the caller's (the algorithm trains on (0, 1) and
(1, 0)); the filters are stateless: :class:`PositivePairs` keeps each
filter's work of a batch, and computes the statistic of a symmetric filter
once per pair of views.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from torch import Tensor

from ..utils import DepthMeta, normalized_center_distance

#: Short names of the known filters in mask names and legends.
FILTER_NAMES = {
    'DepthPairFilter': 'depth',
    'NormalPairFilter': 'normal',
    'SurfacePairFilter': 'surface'
}


@dataclass
class PairMasks:
    """Positive-pair masks of one scale and (query view, key view) order.

    Attributes:
        masks (dict[str, Tensor]): Ordered name -> bool [N, HW, HW]; first
            ``'spatial'``, then ``'spatial+<filter>'`` per active filter and,
            with several active filters, ``'final'``. The last entry is
            always the positives the head trains on.
        size (tuple[int, int]): Feature grid (H, W).
        labels (dict[str, str]): Name -> legend text with thresholds.
    """
    masks: Dict[str, Tensor]
    size: Tuple[int, int]
    labels: Dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> List[str]:
        return list(self.masks)

    @property
    def spatial(self) -> Tensor:
        """PixPro's positives (spatial test alone)."""
        return self.masks['spatial']

    @property
    def final(self) -> Tensor:
        """The positives the head trains on (last mask)."""
        return self.masks[self.names[-1]]


def check_depth_kinds(filters: Sequence, meta: Optional[DepthMeta],
                      config_key: str = 'model.head.filters') -> None:
    """Each filter refuses depth kinds its test is meaningless for.

    Raises:
        ValueError: Naming the sample, its kind and the config line
            ``<config_key>[i]`` of the filter.
    """
    if meta is None:
        return
    for index, filt in enumerate(filters):
        filt.check_depth_kinds(meta, f'{config_key}[{index}]')


class PositivePairs:
    """The positive pairs of one batch of views under some pair filters.

    Holds the batch's crop boxes, depth and depth facts, and each filter's
    work on them, so that it is done once: :meth:`BasePairFilter.per_view`
    once per view, :meth:`BasePairFilter.on_grid` once per view and feature
    grid, :meth:`BasePairFilter.pair_statistic` once per view order and grid
    -- or, for a symmetric filter, once per pair of views (the other order
    reads it transposed). :meth:`tests` gives the :class:`PairTests` of one
    view order and grid; a filter is evaluated only when a scale needs it.

    Args:
        coord (Tensor): [N, V, 4] crop boxes.
        depth (Tensor, optional): [N, V, h, w] depths, 0 = invalid. None:
            no filter applies (PixPro).
        filters (Sequence): Pair filters (:class:`BasePairFilter`).
        depth_meta (DepthMeta, optional): Per-sample depth facts; None:
            every sample has metric depth.

    Raises:
        ValueError: Bad shapes, or a depth kind a filter cannot test.
    """

    def __init__(self,
                 coord: Tensor,
                 depth: Optional[Tensor] = None,
                 filters: Sequence = (),
                 depth_meta: Optional[DepthMeta] = None) -> None:
        if coord.dim() != 3 or coord.size(-1) != 4:
            raise ValueError(
                f'coord must be [N, V, 4], got {tuple(coord.shape)}')
        if depth is not None and (depth.dim() != 4
                                  or depth.shape[:2] != coord.shape[:2]):
            raise ValueError(f'depth must be [N, V, h, w] with N, V = '
                             f'{tuple(coord.shape[:2])}, got '
                             f'{tuple(depth.shape)}')
        if depth_meta is not None and not depth_meta.any_depth:
            depth = None  # no sample has depth: PixPro, at no filter cost
        if depth is not None:
            check_depth_kinds(filters, depth_meta)
        self.coord = coord
        self.depth = depth
        self.depth_meta = depth_meta
        self.filters = list(filters) if depth is not None else []
        # samples without depth pass every filter (PixPro)
        self.no_depth = None
        if depth is not None and depth_meta is not None and \
                not depth_meta.all_depth:
            self.no_depth = ~depth_meta.has_depth.to(
                coord.device)[:, None, None]
        self._per_view = {}  # (filter index, view)
        self._on_grid = {}  # (filter index, view, size)
        self._statistics = {}  # (filter index, views, size)
        self._tests = {}  # (views, size)
        #: The view orders asked for, in the order they were.
        self.view_orders: List[Tuple[int, int]] = []

    def tests(self, views: Tuple[int, int],
              size: Sequence[int]) -> 'PairTests':
        """The pair tests of one view order on one feature grid.

        Args:
            views (tuple[int, int]): (query view, key view).
            size (Sequence[int]): Feature grid (H, W).
        """
        key = (tuple(views), (int(size[0]), int(size[1])))
        if key not in self._tests:
            self._tests[key] = PairTests(self, *key)
            if key[0] not in self.view_orders:
                self.view_orders.append(key[0])
        return self._tests[key]

    def statistic(self, index: int, views: Tuple[int, int],
                  size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """``(stat, valid)`` [N, HW, HW] of filter ``index`` for one view
        order and grid."""
        key = (index, views, size)
        if key not in self._statistics:
            filt = self.filters[index]
            reverse = (index, views[::-1], size)
            if filt.symmetric and reverse in self._statistics:
                stat, valid = self._statistics[reverse]
                self._statistics[key] = (stat.transpose(1, 2),
                                         valid.transpose(1, 2))
            else:
                self._statistics[key] = filt.pair_statistic(
                    self._grid(index, views[0], size),
                    self._grid(index, views[1], size))
        return self._statistics[key]

    def _grid(self, index: int, view: int, size: Tuple[int, int]):
        """Filter ``index``'s quantity of one view on one grid."""
        key = (index, view, size)
        if key not in self._on_grid:
            if (index, view) not in self._per_view:
                self._per_view[index, view] = self.filters[index].per_view(
                    self.depth[:, view], self.coord[:, view],
                    self.depth_meta)
            self._on_grid[key] = self.filters[index].on_grid(
                self._per_view[index, view], size)
        return self._on_grid[key]


class PairTests:
    """The pair tests of one feature grid and view order, for every scale.

    Holds ONE normalised centre-distance matrix; each filter's statistic
    comes from the batch's :class:`PositivePairs` the first time a scale
    needs the filter. :meth:`masks` thresholds them for a scale, so all
    scales of a grid share them. Build it with :meth:`PositivePairs.tests`.

    Args:
        pairs (PositivePairs): The batch's pairs.
        views (tuple[int, int]): (query view, key view).
        size (tuple[int, int]): Feature grid (H, W).
    """

    def __init__(self, pairs: PositivePairs, views: Tuple[int, int],
                 size: Tuple[int, int]) -> None:
        num_views = pairs.coord.size(1)
        if not all(0 <= v < num_views for v in views):
            raise ValueError(f'views {views} are not views of a batch of '
                             f'{num_views} view(s)')
        self.pairs = pairs
        self.views = views
        self.size = size
        q, k = views
        self.distance = normalized_center_distance(pairs.coord[:, q],
                                                   pairs.coord[:, k], size)
        self._masks = {}

    def masks(self, scale: dict) -> PairMasks:
        """Masks of one scale (see :class:`PairMasks`).

        Args:
            scale (dict): ``spatial_thresh`` (T) and optional per-filter
                thresholds (e.g. ``depth_thresh``), as the head's scales.
        """
        key = tuple(sorted(scale.items()))
        if key not in self._masks:
            self._masks[key] = self._threshold(scale)
        return self._masks[key]

    def _threshold(self, scale: dict) -> PairMasks:
        thresh = scale['spatial_thresh']
        spatial = self.distance < thresh
        masks = OrderedDict(spatial=spatial)
        labels = {'spatial': f'spatial (T={thresh:g})'}
        final = spatial
        for index, filt in enumerate(self.pairs.filters):
            filt_thresh = filt.scale_thresh(scale)
            if filt.is_disabled(filt_thresh):
                continue
            stat, valid = self.pairs.statistic(index, self.views, self.size)
            keep = filt.keep(stat, valid, filt_thresh)
            if self.pairs.no_depth is not None:
                keep = keep | self.pairs.no_depth
            short = FILTER_NAMES.get(type(filt).__name__,
                                     type(filt).__name__)
            name = f'spatial+{short}'
            if name in masks:  # two filters of one type
                name = f'{name}{index}'
            masks[name] = spatial & keep
            labels[name] = f'+ {short} ({filt_thresh:g})'
            final = final & keep
        if len(masks) > 2:
            masks['final'] = final
            labels['final'] = 'all tests'
        return PairMasks(masks=masks, size=self.size, labels=labels)


def positive_pair_masks(coord: Tensor,
                        depth: Optional[Tensor],
                        size: Sequence[int],
                        scale: dict,
                        filters: Sequence = (),
                        views: Tuple[int, int] = (0, 1),
                        depth_meta: Optional[DepthMeta] = None
                        ) -> PairMasks:
    """Positive masks of one scale: the spatial test AND every filter.

    The masks :class:`MultiScalePixelHead` trains on, e.g. for a head
    ``head`` whose last forward ran on a grid of ``size``::

        pairs = positive_pair_masks(coord, depth, size, head.scales[0],
                                    head.filters)
        pairs.final  # bool [N, HW, HW]

    Args:
        coord (Tensor): [N, V, 4] crop boxes.
        depth (Tensor, optional): [N, V, h, w] depths (0 = invalid); None
            disables the filters (PixPro).
        size (Sequence[int]): Feature grid (H, W).
        scale (dict): A scale of the head: ``spatial_thresh`` and optional
            filter thresholds (``depth_thresh``, ``normal_max_angle``).
        filters (Sequence): Pair filters (:class:`BasePairFilter`).
        views (tuple[int, int]): (query view, key view).
        depth_meta (DepthMeta, optional): Per-sample depth facts (from
            :func:`stack_depth`); None: metric depth in every sample.

    Returns:
        PairMasks: The masks of this view order.
    """
    pairs = PositivePairs(coord, depth, filters, depth_meta)
    return pairs.tests(views, size).masks(scale)
