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


def active_filters(filters: Sequence, scales: Sequence[dict],
                   depth: Optional[Tensor]) -> list:
    """Filters with a finite threshold at one of ``scales``.

    Without depth no filter applies (PixPro).
    """
    if depth is None:
        return []
    return [
        f for f in filters
        if any(not f.is_disabled(f.scale_thresh(s)) for s in scales)
    ]


class PairTests:
    """The pair tests of one feature grid and view order, for every scale.

    Holds ONE normalised centre-distance matrix and one statistic per
    filter; :meth:`masks` thresholds them for a scale, so all scales of a
    level share them. Each filter's level-independent work
    (:meth:`BasePairFilter.per_view`) and its per-grid work
    (:meth:`BasePairFilter.on_grid`) are cached in ``cache``: pass the same
    dict to every grid and view order of a batch to do them once per view
    (and once per view and grid).

    Args:
        coord (Tensor): [N, V, 4] crop boxes.
        size (Sequence[int]): Feature grid (H, W).
        views (tuple[int, int]): (query view, key view).
        filters (Sequence): Filters to evaluate (e.g. from
            :func:`active_filters`); ignored when ``depth`` is None.
        depth (Tensor, optional): [N, V, h, w] depths, 0 = invalid.
        cache (dict, optional): Per-batch cache shared across grids and
            view orders.
        depth_meta (DepthMeta, optional): Per-sample depth facts; None:
            every sample has metric depth.
    """

    def __init__(self,
                 coord: Tensor,
                 size: Sequence[int],
                 views: Tuple[int, int] = (0, 1),
                 filters: Sequence = (),
                 depth: Optional[Tensor] = None,
                 cache: Optional[dict] = None,
                 depth_meta: Optional[DepthMeta] = None) -> None:
        if coord.dim() != 3 or coord.size(-1) != 4:
            raise ValueError(
                f'coord must be [N, V, 4], got {tuple(coord.shape)}')
        if depth is not None and (depth.dim() != 4
                                  or depth.shape[:2] != coord.shape[:2]):
            raise ValueError(f'depth must be [N, V, h, w] with N, V = '
                             f'{tuple(coord.shape[:2])}, got '
                             f'{tuple(depth.shape)}')
        self.size = (int(size[0]), int(size[1]))
        q, k = views
        self.distance = normalized_center_distance(coord[:, q], coord[:, k],
                                                   self.size)
        self.filters = list(filters) if depth is not None else []
        cache = {} if cache is None else cache

        def on_grid(filt, view):
            key = (id(filt), view, self.size)
            if key not in cache:
                per_view_key = (id(filt), view)
                if per_view_key not in cache:
                    cache[per_view_key] = filt.per_view(
                        depth[:, view], coord[:, view], depth_meta)
                cache[key] = filt.on_grid(cache[per_view_key], self.size)
            return cache[key]

        self.statistics = [
            filt.pair_statistic(on_grid(filt, q), on_grid(filt, k))
            for filt in self.filters
        ]
        # samples without depth pass every filter (PixPro)
        self.no_depth = None
        if depth_meta is not None and not depth_meta.all_depth:
            self.no_depth = ~depth_meta.has_depth.to(
                self.distance.device)[:, None, None]

    def masks(self, scale: dict) -> PairMasks:
        """Masks of one scale (see :class:`PairMasks`).

        Args:
            scale (dict): ``spatial_thresh`` (T) and optional per-filter
                thresholds (e.g. ``depth_thresh``), as the head's scales.
        """
        thresh = scale['spatial_thresh']
        spatial = self.distance < thresh
        masks = OrderedDict(spatial=spatial)
        labels = {'spatial': f'spatial (T={thresh:g})'}
        final = spatial
        for index, (filt, (stat, valid)) in enumerate(
                zip(self.filters, self.statistics)):
            filt_thresh = filt.scale_thresh(scale)
            if filt.is_disabled(filt_thresh):
                continue
            keep = filt.keep(stat, valid, filt_thresh)
            if self.no_depth is not None:
                keep = keep | self.no_depth
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
    if depth_meta is not None and not depth_meta.any_depth:
        depth = None
    check_depth_kinds(filters, depth_meta if depth is not None else None)
    tests = PairTests(coord, size, views,
                      active_filters(filters, [scale], depth), depth,
                      depth_meta=depth_meta)
    return tests.masks(scale)
