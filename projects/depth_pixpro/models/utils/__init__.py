"""Pure tensor functions of DepthPixPro, among them the public functional
contract of design.md ("The math")::

    from projects.depth_pixpro.models.utils import (
        grid_centers, spatial_positive_mask, pool_depth, depth_positive_mask,
        pixel_consistency_loss)

Training runs through the contract, sharing its intermediate results: per
view order and grid the positive pairs compute
:func:`normalized_center_distance` once and threshold it per scale
(:func:`spatial_positive_mask` is that threshold); ``DepthPairFilter``
computes :func:`depth_pair_statistic` once and thresholds it per scale with
:func:`threshold_pair_statistic` (:func:`depth_positive_mask` is those two
steps); the loss of a scale is :func:`masked_cosine_loss` of the level's
:func:`pixel_cosine_similarity` (:func:`pixel_consistency_loss` is those two
steps).
"""
from ...coord import bin_sizes, grid_centers
from .collapse import projection_spread
from .depth import (DEPTH_INVALID_POLICIES, INVALID_POLICIES,
                    depth_pair_difference, depth_pair_statistic,
                    depth_positive_mask, invalid_as_far, normalize_depth,
                    pool_depth, threshold_pair_statistic)
from .depth_meta import DepthMeta, stack_depth, stack_field
from .depth_stats import (CELL_STATS, cell_depth, center_depth,
                          median_pool_depth)
from .grids import normalized_center_distance, spatial_positive_mask
from .loss import (masked_cosine_loss, pixel_consistency_loss,
                   pixel_cosine_similarity)
from .normals import (depth_to_normals, normal_pair_difference, pool_normals,
                      view_rays)
from .surface import (log_depth, max_relative_jump, max_surface_jump,
                      segment_depth_jump)

__all__ = [
    'grid_centers', 'spatial_positive_mask', 'pool_depth',
    'depth_positive_mask', 'pixel_consistency_loss', 'bin_sizes',
    'normalized_center_distance', 'depth_pair_difference',
    'depth_pair_statistic', 'normalize_depth',
    'threshold_pair_statistic', 'INVALID_POLICIES', 'DEPTH_INVALID_POLICIES',
    'invalid_as_far', 'DepthMeta', 'stack_depth', 'stack_field',
    'pixel_cosine_similarity', 'masked_cosine_loss', 'view_rays',
    'depth_to_normals', 'pool_normals', 'normal_pair_difference',
    'CELL_STATS', 'cell_depth', 'center_depth', 'median_pool_depth',
    'max_relative_jump', 'segment_depth_jump', 'log_depth',
    'max_surface_jump', 'projection_spread'
]
