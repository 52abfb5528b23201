"""Purity against recall of the positive pairs, one panel per scale and one
curve per filter family (the counts: ``evaluation/pair_purity.py``)."""
from matplotlib.figure import Figure

from .canvas import save_figure


def build_purity_figure(result, title: str = '') -> Figure:
    """Purity vs recall of a ``PurityResult``: one panel per scale, one
    curve per filter family (points in threshold order); the spatial test
    alone is a star, a family of one point (e.g. the config's filters as
    trained) a diamond.

    Args:
        result (PurityResult): The counts.
        title (str): Figure title.

    Returns:
        Figure: The figure (no pyplot).
    """
    fig = Figure(figsize=(5 * len(result.scales), 4.5), dpi=100)
    for index, scale in enumerate(result.scales):
        ax = fig.add_subplot(1, len(result.scales), index + 1)
        for family in result.families():
            points = [(result.get(scale.name, s.name).recall,
                       result.get(scale.name, s.name).purity)
                      for s in result.settings if s.family == family]
            if family == 'spatial':
                ax.plot(*points[0],
                        marker='*',
                        markersize=14,
                        color='k',
                        linestyle='none',
                        label='spatial only')
                continue
            if len(points) == 1:
                ax.plot(*points[0], marker='D', markersize=9,
                        linestyle='none', label=family)
                continue
            ax.plot(*zip(*points), marker='o', label=family)
        ax.set_xlabel('recall  P(kept | same-class spatial pair)')
        ax.set_ylabel('purity  P(same class | kept)')
        ax.set_title(f'{scale.name} (grid {scale.size[0]}x{scale.size[1]})')
        ax.grid(alpha=0.3)
    fig.axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_purity_recall(result, path: str, title: str = '') -> str:
    """:func:`build_purity_figure` written to ``path``, atomically.

    Returns:
        str: ``path``.
    """
    return save_figure(build_purity_figure(result, title), path)
