"""Interface of the exogenous pair filters used by MultiScalePixelHead."""
import math
from abc import ABCMeta, abstractmethod
from typing import Any, Optional, Sequence

from mmengine.model import BaseModule
from torch import Tensor

from ...depth_kinds import DEPTH_KINDS
from ..utils import INVALID_POLICIES, DepthMeta, threshold_pair_statistic
from ..utils.validation import check_number, check_positive


class BasePairFilter(BaseModule, metaclass=ABCMeta):
    """A test on (query bin, key bin) pairs from a per-view exogenous map.

    A batch's positive pairs (:class:`PositivePairs`) call :meth:`per_view`
    once per view (level-independent work, e.g. normals at depth
    resolution), then per feature grid :meth:`on_grid` once per view,
    :meth:`pair_statistic` once per view order (once per pair of views for
    a :attr:`symmetric` filter) and :meth:`keep` once per scale -- so the
    expensive parts are shared by all levels and scales. A filter keeps no
    state between these calls.

    Args:
        thresh (float): Default threshold in the filter's own unit; ``inf``
            disables the filter.
        invalid (str): ``'pass'``: a pair without the statistic (missing
            depth) falls back on the other tests; ``'reject'``: dropped.
        init_cfg (dict, optional): Unused (no weights); kept for mmengine.
    """

    #: Key of a scale dict that overrides ``thresh`` for that scale.
    scale_key: str = 'thresh'
    #: Accepted values of ``invalid``.
    invalid_policies: tuple = INVALID_POLICIES
    #: Name of the threshold argument in the filter's config.
    thresh_arg: str = 'thresh'
    #: The depth kinds (``depth_kinds.DEPTH_KINDS``) the test means
    #: something for, and why (for the message refusing another kind).
    depth_kinds: tuple = DEPTH_KINDS
    kinds_reason: str = ''
    #: ``pair_statistic(k, q)`` is ``pair_statistic(q, k)`` transposed
    #: (dims 1 and 2): the positive pairs then compute it once per pair of
    #: views.
    symmetric: bool = False

    def __init__(self,
                 thresh: float,
                 invalid: str = 'pass',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if invalid not in self.invalid_policies:
            raise ValueError(f'invalid must be one of '
                             f'{self.invalid_policies}, got {invalid!r}')
        self.thresh = self.check_thresh(thresh, self.thresh_arg)
        self.invalid = invalid

    def check_thresh(self, value, key: str) -> float:
        """A threshold (ValueError naming ``key`` otherwise): any number or
        ``inf`` (filter off) here; filters whose statistic is a
        non-negative difference allow only > 0 (:meth:`check_difference`).
        """
        return check_number(value, key, allow_inf=True)

    @staticmethod
    def check_difference(value, key: str) -> float:
        """A threshold on a non-negative difference: > 0 or ``inf`` (zero
        or less would reject every pair)."""
        return check_positive(value, key, allow_inf=True)

    def scale_thresh(self, scale: dict) -> float:
        """Threshold of this filter for one scale (its override or default)."""
        value = scale.get(self.scale_key)
        return self.thresh if value is None else float(value)

    @staticmethod
    def is_disabled(thresh: float) -> bool:
        """Whether a threshold lets every pair through."""
        return math.isinf(thresh) and thresh > 0

    def statistic_thresh(self, thresh: float) -> float:
        """Map a user threshold to one on :meth:`pair_statistic`."""
        return thresh

    def check_depth_kinds(self, meta: DepthMeta, config_key: str) -> None:
        """Refuse a sample whose depth kind is not one of
        :attr:`depth_kinds` (ValueError naming the sample, its kind and
        ``config_key``, the config line to change)."""
        for index, kind in enumerate(meta.kinds):
            if kind not in self.depth_kinds and meta.has_depth[index]:
                raise ValueError(
                    f'{config_key} ({type(self).__name__}) cannot use the '
                    f'{kind!r} depth of {meta.sample_name(index)}: '
                    f'{self.kinds_reason} {self.depth_kinds}. Remove '
                    f'{config_key} from the config or give depth of another '
                    'kind.')

    def per_view(self, depth: Tensor, coord: Tensor,
                 meta: Optional[DepthMeta] = None) -> Any:
        """Level-independent quantity of one view; the depth by default.

        Args:
            depth (Tensor): [N, h, w] depth of the view, 0 = invalid.
            coord (Tensor): [N, 4] crop boxes of the view.
            meta (DepthMeta, optional): What each sample's depth is (kind,
                whole-image range); None: metric depth.
        """
        return depth

    @abstractmethod
    def on_grid(self, view: Any, size: Sequence[int]) -> Any:
        """One view's quantity on a feature grid (e.g. pooled depth).

        Args:
            view: Output of :meth:`per_view` for this view.
            size (Sequence[int]): Feature grid (H, W).
        """

    @abstractmethod
    def pair_statistic(self, grid_q: Any, grid_k: Any):
        """Return ``(stat [N, HW, HW], valid bool [N, HW, HW])``; smaller
        ``stat`` means more alike."""

    def keep(self, stat: Tensor, valid: Tensor, thresh: float) -> Tensor:
        """bool [N, HW, HW]: pairs that pass at this threshold."""
        return threshold_pair_statistic(stat, valid,
                                        self.statistic_thresh(thresh),
                                        self.invalid)
