"""Training curves from mmengine's JSON logs, several runs overlaid::

    python tools/analysis_tools/plot_logs.py work_dirs/depth_pixpro_synthetic \
        work_dirs/pixpro_synthetic --keys loss pos_final \
        --legend depth-pixpro pixpro --out work_dirs/curves.png

A run's logs are ``WORK_DIR/<timestamp>/vis_data/<timestamp>.json`` (the
logger's) and ``scalars.json`` (every ``add_scalars``, e.g. the pair counts of
``PairVisualizationHook``): one JSON record per line with ``step``. Every
session of the run (a resume starts a new timestamp folder) is merged; for a
step logged twice, the later session wins.
"""
import argparse
import glob
import os.path as osp
from typing import Dict, List, Optional

from matplotlib.figure import Figure

from projects.depth_pixpro.utils.scripts import read_json_lines
from projects.depth_pixpro.visualization.canvas import (
    figure_to_array, save_rgb_png)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot training curves of mmengine work dirs')
    parser.add_argument('work_dirs', nargs='+',
                        help='work dirs (or JSON log files)')
    parser.add_argument('--keys', nargs='+', default=['loss'],
                        help='logged scalars to plot, one panel each')
    parser.add_argument('--legend', nargs='+',
                        help='one name per work dir (default: folder names)')
    parser.add_argument('--out', default='work_dirs/plot_logs.png',
                        help='output PNG file')
    parser.add_argument('--title', default='', help='figure title')
    return parser.parse_args(argv)


def find_json_logs(work_dir: str) -> List[str]:
    """JSON scalar logs of a work dir, oldest session first.

    Raises:
        FileNotFoundError: none found.
    """
    if osp.isfile(work_dir):
        return [work_dir]
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', '*.json')))
    files = [f for f in files if osp.basename(f) != 'config.json']
    if not files:
        raise FileNotFoundError(
            f'no JSON log under {work_dir}/<timestamp>/vis_data/; is it a '
            'work dir of tools/train.py (LoggerHook writes them)?')
    # session order, and per session the logger's file before scalars.json
    return sorted(files, key=lambda f: (f.split(osp.sep)[-3],
                                        osp.basename(f) == 'scalars.json'))


def load_scalars(work_dir: str) -> Dict[str, Dict[int, float]]:
    """All logged scalars of a run: key -> {step: value}."""
    curves: Dict[str, Dict[int, float]] = {}
    for path in find_json_logs(work_dir):
        for record in read_json_lines(path):
            step = record.get('step', record.get('iter'))
            if step is None:
                continue
            for key, value in record.items():
                if key in ('step', 'iter', 'epoch') or \
                        not isinstance(value, (int, float)):
                    continue
                curves.setdefault(key, {})[int(step)] = float(value)
    return curves


def plot_curves(runs: List[Dict[str, Dict[int, float]]], names: List[str],
                keys: List[str], title: str = '',
                dpi: int = 100) -> 'np.ndarray':  # noqa: F821
    """One panel per key, one line per run.

    Returns:
        np.ndarray: RGB uint8 of ``(3 * rows) x (4.5 * cols)`` inches.
    """
    n_cols = min(len(keys), 3)
    n_rows = (len(keys) + n_cols - 1) // n_cols
    fig = Figure(figsize=(4.5 * n_cols, 3 * n_rows), dpi=dpi)
    for index, key in enumerate(keys):
        ax = fig.add_subplot(n_rows, n_cols, index + 1)
        for run, name in zip(runs, names):
            if key in run:
                steps = sorted(run[key])
                ax.plot(steps, [run[key][s] for s in steps], label=name,
                        marker='.' if len(steps) < 30 else None)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel('iteration', fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return figure_to_array(fig)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    names = args.legend or [osp.basename(osp.normpath(d))
                            for d in args.work_dirs]
    if len(names) != len(args.work_dirs):
        raise ValueError(f'--legend has {len(names)} names for '
                         f'{len(args.work_dirs)} work dirs')
    runs = [load_scalars(d) for d in args.work_dirs]
    for key in args.keys:
        if not any(key in run for run in runs):
            available = sorted(set().union(*runs))
            raise KeyError(f'no run logged {key!r}; available keys: '
                           f'{available}')
    out = save_rgb_png(args.out, plot_curves(runs, names, args.keys,
                                             args.title))
    for run, name in zip(runs, names):
        last = {k: round(run[k][max(run[k])], 4) for k in args.keys
                if k in run}
        print(f'{name}: last values {last}')
    print(f'saved {out}')
    return out


if __name__ == '__main__':
    main()
