"""Drawing helpers of the analysis tools and :class:`PairVisualizationHook`.

Pure numpy/torch computations plus matplotlib drawing on an Agg canvas (no
``pyplot``, so importing this never changes the user's matplotlib backend).
The masks drawn are the head's (``models/heads/positive_pairs.py``), the
counts plotted the evaluation's (``evaluation/pair_purity.py``).
"""
from .canvas import (figure_to_array, save_figure, save_rgb_png,
                     to_display_rgb)
from .features import cosine_similarity_map, pca_rgb
from .pairs import (build_pair_figure, compute_pair_masks, draw_pair_figure,
                    feature_grid_size, pair_counts, select_query_cell)
from .purity import build_purity_figure, plot_purity_recall

__all__ = [
    'figure_to_array', 'save_figure', 'save_rgb_png', 'to_display_rgb',
    'pca_rgb',
    'cosine_similarity_map', 'build_pair_figure', 'compute_pair_masks',
    'draw_pair_figure', 'feature_grid_size', 'pair_counts',
    'select_query_cell', 'build_purity_figure', 'plot_purity_recall'
]
