"""Drawing helpers of the analysis tools and :class:`PairVisualizationHook`.

Pure numpy/torch computations plus matplotlib drawing on an Agg canvas (no
``pyplot``, so importing this never changes the user's matplotlib backend).
"""
from .canvas import figure_to_array, save_rgb_png, to_display_rgb
from .features import cosine_similarity_map, pca_rgb
from .pairs import (PairMasks, build_pair_figure, compute_pair_masks,
                    draw_pair_figure, feature_grid_size, pair_counts,
                    positive_pair_masks, select_query_cell)

__all__ = [
    'figure_to_array', 'save_rgb_png', 'to_display_rgb', 'pca_rgb',
    'cosine_similarity_map', 'PairMasks', 'build_pair_figure', 'compute_pair_masks',
    'draw_pair_figure', 'feature_grid_size', 'pair_counts',
    'positive_pair_masks', 'select_query_cell'
]
