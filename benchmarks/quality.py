"""Downstream quality: PixPro vs DepthPixPro vs random init (synthetic scenes).

For every renderer difficulty and seed:

1. pretrain ResNet-18 with PixPro and with DepthPixPro under the same
   budget, data, optimiser and seed
   (``benchmarks/configs/pixpro_r18_synthetic.py``,
   ``depth_pixpro_r18_synthetic.py``: the CPU demo configs), keeping a
   checkpoint every ``--eval-every`` iterations;
2. evaluate each kept checkpoint, and a random initialisation, on held-out
   labeled scenes of the same difficulty (segmentation seeds from
   10,000,000, disjoint from the pretraining ones):

   * ``probe``: frozen backbone + linear pixel classifier
     (``benchmarks/configs/linear_probe_r18_synthetic.py``),
   * ``finetune``: short FCN-R18-D8 fine-tune
     (``benchmarks/configs/fcn_r18_synthetic_short.py``, from
     ``configs/segmentation/fcn_r18_synthetic_cpu.py``);

   mIoU on the validation scenes (evaluated once, at the end of training).

Every run is a ``tools/train.py`` process writing to its own work dir under
``--out``; a finished run leaves ``result.json`` (evaluations) or its final
checkpoint (pretraining) and is skipped when the script runs again, an
interrupted pretraining resumes from its last checkpoint. The script then
writes ``results.csv`` (one row per evaluation), ``results.md`` (mIoU mean
+- std over seeds at the last pretraining iteration, the per-iteration curve,
wall times and an estimate of the full run's wall time) and ``quality.png``
(mIoU against pretraining iterations; 0 = random init).

    python benchmarks/quality.py             # 3 seeds x difficulty 0.3, 0.9
    python benchmarks/quality.py --quick         # ~10 min smoke run on 2 cores
    python benchmarks/quality.py --jobs 2        # two runs at a time
    python benchmarks/quality.py --dry           # print the commands only
    python benchmarks/quality.py --report-only   # tables + plot from results

Subprocesses get ``OMP_NUM_THREADS=--threads`` (default 1); ``--jobs`` is at
most 2 on purpose (CPU machines of this project have 2 cores).
"""
import argparse
import csv
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from projects.depth_pixpro.utils.scripts import (read_scalars, repo_root,
                                                 thread_env, tool_command)

REPO_ROOT = repo_root()
CONFIG_DIR = osp.join(REPO_ROOT, 'benchmarks', 'configs')
PRETRAIN_CONFIGS = dict(
    pixpro=osp.join(CONFIG_DIR, 'pixpro_r18_synthetic.py'),
    depth_pixpro=osp.join(CONFIG_DIR, 'depth_pixpro_r18_synthetic.py'))
EVAL_CONFIGS = dict(
    probe=osp.join(CONFIG_DIR, 'linear_probe_r18_synthetic.py'),
    finetune=osp.join(CONFIG_DIR, 'fcn_r18_synthetic_short.py'))
METHODS = ('random', 'pixpro', 'depth_pixpro')
LABELS = dict(random='random init', pixpro='PixPro',
              depth_pixpro='DepthPixPro')
CSV_FIELDS = ('difficulty', 'eval', 'method', 'seed', 'pretrain_iter',
              'mIoU', 'mAcc', 'aAcc', 'eval_s_per_iter', 'wall_s',
              'work_dir')

#: Full experiment and --quick smoke run. ``seg_train``/``seg_val``: labeled
#: held-out scenes for the probe / fine-tune and for their mIoU.
FULL = dict(seeds=[0, 1, 2], difficulties=[0.3, 0.9], pretrain_iters=300,
            eval_every=100, probe_iters=200, finetune_iters=100,
            seg_train=256, seg_val=32)
QUICK = dict(seeds=[0], difficulties=[0.9], pretrain_iters=30,
             eval_every=15, probe_iters=50, finetune_iters=20,
             seg_train=64, seg_val=16)
#: Scenes per pretraining seed (``SyntheticRGBDDataset`` seeds
#: ``seed * SCENE_SEED_STRIDE`` upwards), below the segmentation offset.
SCENE_SEED_STRIDE = 100_000


# --------------------------------------------------------------------------
# Run plan
# --------------------------------------------------------------------------
def warmup_iters(iters: int) -> int:
    """Linear warm-up length of a pretraining schedule of ``iters``."""
    return min(20, max(1, iters // 5))


def pretrain_options(iters: int, eval_every: int, seed: int,
                     difficulty: float) -> list:
    """``--cfg-options`` of one pretraining run (schedule, checkpoints,
    seeds, difficulty)."""
    if not 0 <= seed < SCENE_SEED_STRIDE // 1000:
        raise ValueError(f'seed must be in [0, 100), got {seed}')
    warm = warmup_iters(iters)
    return [
        f'train_cfg.max_iters={iters}',
        f'param_scheduler.0.end={warm}',
        f'param_scheduler.1.begin={warm}',
        f'param_scheduler.1.end={iters}',
        f'param_scheduler.1.T_max={iters - warm}',
        f'default_hooks.checkpoint.interval={eval_every}',
        f'randomness.seed={seed}',
        f'train_dataloader.dataset.seed={seed * SCENE_SEED_STRIDE}',
        f'train_dataloader.dataset.difficulty={difficulty}',
    ]


def eval_options(iters: int, checkpoint: str, seed: int, difficulty: float,
                 seg_train: int, seg_val: int, cache_dir: str) -> list:
    """``--cfg-options`` of one probe / fine-tune run. ``checkpoint`` is a
    raw pretraining checkpoint (backbone under ``backbone.``) or None for a
    random initialisation."""
    options = [
        f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters}',
        f'param_scheduler.0.end={iters}',
        # no checkpoint: the result is the validation in the log (and the
        # fine-tuned weights would take ~6 GB over the full experiment)
        f'default_hooks.checkpoint.interval={iters + 1}',
        'default_hooks.checkpoint.save_last=False',
        f'randomness.seed={seed}',
    ]
    for loader, num in (('train_dataloader', seg_train),
                        ('val_dataloader', seg_val),
                        ('test_dataloader', seg_val)):
        options += [f'{loader}.dataset.difficulty={difficulty}',
                    f'{loader}.dataset.num_images={num}',
                    f'{loader}.dataset.cache_dir={cache_dir}']
    if checkpoint is None:
        options.append('model.backbone.init_cfg=None')
    else:
        options += ['model.backbone.init_cfg.type=Pretrained',
                    f'model.backbone.init_cfg.checkpoint={checkpoint}',
                    'model.backbone.init_cfg.prefix=backbone.']
    return options


def train_command(config: str, work_dir: str, options: list,
                  resume: bool = False) -> list:
    """``tools/train.py`` command line."""
    cmd = tool_command('train.py') + [config, '--work-dir', work_dir]
    if resume:
        cmd.append('--resume')
    return cmd + ['--cfg-options', *options]


def checkpoint_iters(settings: dict) -> list:
    """Pretraining iterations whose checkpoints are evaluated."""
    step, last = settings['eval_every'], settings['pretrain_iters']
    iters = list(range(step, last + 1, step))
    return iters if iters and iters[-1] == last else iters + [last]


def plan(settings: dict, out: str) -> tuple:
    """Pretraining and evaluation runs of the experiment.

    Returns:
        tuple[list[dict], list[dict]]: Pretraining runs (``work_dir``,
        ``config``, ``options``, ``final``: the last checkpoint) and
        evaluation runs (``difficulty``, ``eval``, ``method``, ``seed``,
        ``pretrain_iter``, ``work_dir``, ``config``, ``options``,
        ``checkpoint``: None for random init).
    """
    pretrains, evals = [], []
    cache_dir = osp.join(out, 'scene_cache')
    ckpt_iters = checkpoint_iters(settings)
    for difficulty in settings['difficulties']:
        root = osp.join(out, f'difficulty_{difficulty:g}')
        for seed in settings['seeds']:
            for method in METHODS:
                if method == 'random':
                    points = [(0, None)]
                else:
                    pre_dir = osp.join(root, 'pretrain', f'{method}_s{seed}')
                    options = pretrain_options(
                        settings['pretrain_iters'], settings['eval_every'],
                        seed, difficulty)
                    final = osp.join(
                        pre_dir, f"iter_{settings['pretrain_iters']}.pth")
                    pretrains.append(dict(
                        work_dir=pre_dir, config=PRETRAIN_CONFIGS[method],
                        options=options, final=final))
                    points = [(it, osp.join(pre_dir, f'iter_{it}.pth'))
                              for it in ckpt_iters]
                for kind in EVAL_CONFIGS:
                    iters = settings[f'{kind}_iters']
                    for pretrain_iter, ckpt in points:
                        evals.append(dict(
                            difficulty=difficulty, eval=kind, method=method,
                            seed=seed, pretrain_iter=pretrain_iter,
                            work_dir=osp.join(
                                root, kind,
                                f'{method}_s{seed}_it{pretrain_iter}'),
                            config=EVAL_CONFIGS[kind],
                            iters=iters,
                            checkpoint=ckpt,
                            options=eval_options(
                                iters, ckpt, seed, difficulty,
                                settings['seg_train'], settings['seg_val'],
                                cache_dir)))
    return pretrains, evals


# --------------------------------------------------------------------------
# Logs (read with read_scalars: every session of a run, oldest first)
# --------------------------------------------------------------------------
def median_iter_time(records: list) -> float:
    """Median logged training ``time`` (s/iter), NaN if none."""
    times = [r['time'] for r in records if 'iter' in r and 'time' in r]
    return statistics.median(times) if times else float('nan')


def val_metrics(records: list) -> dict:
    """The last validation record (the one with ``mIoU``).

    Raises:
        ValueError: No validation record.
    """
    for record in reversed(records):
        if 'mIoU' in record:
            return record
    raise ValueError('no validation record with mIoU')


# --------------------------------------------------------------------------
# Execution
# --------------------------------------------------------------------------
def run_logged(cmd: list, log_path: str, env: dict) -> float:
    """Run ``cmd`` with its output in ``log_path``; wall seconds.

    Raises:
        RuntimeError: The command failed (names the log).
    """
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    start = time.perf_counter()
    with open(log_path, 'w') as log:
        log.write('+ ' + ' '.join(cmd) + '\n')
        log.flush()
        code = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise RuntimeError(f'exit {code}: {" ".join(cmd[:3])} ... (see '
                           f'{log_path})')
    return time.perf_counter() - start


def run_pretrain(run: dict, env: dict, dry: bool) -> None:
    """One pretraining run; skipped if its final checkpoint exists, resumed
    if it has an earlier one."""
    if osp.isfile(run['final']):
        return
    resume = osp.isfile(osp.join(run['work_dir'], 'last_checkpoint'))
    cmd = train_command(run['config'], run['work_dir'], run['options'],
                        resume)
    if dry:
        print(' '.join(cmd))
        return
    print(f'pretrain {osp.relpath(run["work_dir"], REPO_ROOT)}'
          f'{" (resume)" if resume else ""}', flush=True)
    wall = run_logged(cmd, osp.join(run['work_dir'], 'run.log'), env)
    with open(osp.join(run['work_dir'], 'timing.json'), 'w') as f:
        json.dump(dict(wall_s=wall, s_per_iter=median_iter_time(
            read_scalars(run['work_dir']))), f)


def run_eval(run: dict, env: dict, dry: bool) -> None:
    """One probe / fine-tune run; skipped if ``result.json`` exists."""
    result_path = osp.join(run['work_dir'], 'result.json')
    if osp.isfile(result_path):
        return
    cmd = train_command(run['config'], run['work_dir'], run['options'])
    if dry:
        print(' '.join(cmd))
        return
    if run['checkpoint'] and not osp.isfile(run['checkpoint']):
        raise FileNotFoundError(
            f'{run["checkpoint"]} missing: its pretraining run failed or '
            'was deleted; run the script again to redo it.')
    print(f'{run["eval"]} {osp.relpath(run["work_dir"], REPO_ROOT)}',
          flush=True)
    wall = run_logged(cmd, osp.join(run['work_dir'], 'run.log'), env)
    records = read_scalars(run['work_dir'])
    metrics = val_metrics(records)
    result = {k: run[k] for k in ('difficulty', 'eval', 'method', 'seed',
                                  'pretrain_iter')}
    result.update(mIoU=metrics['mIoU'], mAcc=metrics.get('mAcc'),
                  aAcc=metrics.get('aAcc'),
                  eval_s_per_iter=median_iter_time(records), wall_s=wall,
                  work_dir=osp.relpath(run['work_dir'], REPO_ROOT))
    with open(result_path, 'w') as f:
        json.dump(result, f, indent=1)


def clean_checkpoints(pretrains: list, evals: list) -> list:
    """Delete the intermediate pretraining checkpoints whose evaluations
    all finished (the final one stays: it marks the run as done).

    Returns:
        list[str]: The deleted files.
    """
    finals = {run['final'] for run in pretrains}
    users = {}
    for run in evals:
        if run['checkpoint']:
            users.setdefault(run['checkpoint'], []).append(run)
    deleted = []
    for ckpt, runs in users.items():
        done = all(osp.isfile(osp.join(r['work_dir'], 'result.json'))
                   for r in runs)
        if ckpt not in finals and done and osp.isfile(ckpt):
            os.remove(ckpt)
            deleted.append(ckpt)
    return deleted


def run_all(fn, runs: list, jobs: int, env: dict, dry: bool) -> None:
    """``fn(run)`` for every run, ``jobs`` at a time; raises the first
    failure after the others finished (their results stay usable)."""
    if dry or jobs == 1:
        for run in runs:
            fn(run, env, dry)
        return
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(fn, run, env, dry) for run in runs]
    errors = [f.exception() for f in futures if f.exception()]
    if errors:
        raise errors[0]


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def collect(out: str) -> list:
    """Every ``result.json`` under ``out``, sorted."""
    rows = []
    for path in glob.glob(osp.join(out, '**', 'result.json'),
                          recursive=True):
        with open(path) as f:
            rows.append(json.load(f))
    return sorted(rows, key=lambda r: (r['difficulty'], r['eval'],
                                       METHODS.index(r['method']),
                                       r['pretrain_iter'], r['seed']))


def mean_std(values: list) -> tuple:
    """Mean and sample standard deviation (0 for one value)."""
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.
    return mean, std


def summarize(rows: list) -> dict:
    """mIoU mean/std/n per (difficulty, eval, method, pretrain_iter)."""
    groups = {}
    for row in rows:
        key = (row['difficulty'], row['eval'], row['method'],
               row['pretrain_iter'])
        groups.setdefault(key, []).append(row['mIoU'])
    return {key: (*mean_std(v), len(v)) for key, v in groups.items()}


def final_table(summary: dict) -> str:
    """mIoU mean +- std (n seeds) at the last pretraining iteration of each
    method, one row per (difficulty, method), one column per evaluation."""
    evals = sorted({k[1] for k in summary}, key=list(EVAL_CONFIGS).index)
    lines = ['| difficulty | method | pretrain iters | ' +
             ' | '.join(f'{e} mIoU' for e in evals) + ' |',
             '|---:|---|---:|' + '---:|' * len(evals)]
    for difficulty in sorted({k[0] for k in summary}):
        for method in METHODS:
            cells, last_iter = [], None
            for kind in evals:
                iters = [k[3] for k in summary
                         if k[:3] == (difficulty, kind, method)]
                if not iters:
                    cells.append('-')
                    continue
                last_iter = max(iters)
                mean, std, n = summary[(difficulty, kind, method, last_iter)]
                cells.append(f'{mean:.2f} +- {std:.2f} (n={n})')
            if last_iter is not None:
                lines.append(f'| {difficulty:g} | {LABELS[method]} | '
                             f'{last_iter} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def curve_table(summary: dict) -> str:
    """Every (difficulty, evaluation, method, pretraining iteration)."""
    lines = ['| difficulty | eval | method | pretrain iter | mIoU mean | '
             'std | seeds |', '|---:|---|---|---:|---:|---:|---:|']
    for key in sorted(summary, key=lambda k: (
            k[0], list(EVAL_CONFIGS).index(k[1]), METHODS.index(k[2]), k[3])):
        mean, std, n = summary[key]
        lines.append(f'| {key[0]:g} | {key[1]} | {LABELS[key[2]]} | '
                     f'{key[3]} | {mean:.2f} | {std:.2f} | {n} |')
    return '\n'.join(lines)


def plot(summary: dict, path: str) -> None:
    """mIoU (mean +- std band) against pretraining iterations: one panel
    per (difficulty, evaluation); random init at iteration 0, shared by the
    pretrained curves and drawn as a dashed line."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    difficulties = sorted({k[0] for k in summary})
    evals = sorted({k[1] for k in summary}, key=list(EVAL_CONFIGS).index)
    fig, axes = plt.subplots(
        len(difficulties), len(evals), squeeze=False,
        figsize=(4.5 * len(evals), 3.4 * len(difficulties)))
    for r, difficulty in enumerate(difficulties):
        for c, kind in enumerate(evals):
            ax = axes[r][c]
            base = summary.get((difficulty, kind, 'random', 0))
            if base is not None:
                ax.axhline(base[0], color='gray', ls='--',
                           label=LABELS['random'])
            for method, color in (('pixpro', 'tab:blue'),
                                  ('depth_pixpro', 'tab:red')):
                iters = sorted(k[3] for k in summary
                               if k[:3] == (difficulty, kind, method))
                if not iters:
                    continue
                stats = [summary[(difficulty, kind, method, i)]
                         for i in iters]
                if base is not None:  # iteration 0 = random init
                    iters, stats = [0] + iters, [base] + stats
                mean = [s[0] for s in stats]
                std = [s[1] for s in stats]
                ax.plot(iters, mean, 'o-', color=color, label=LABELS[method])
                ax.fill_between(iters, [m - s for m, s in zip(mean, std)],
                                [m + s for m, s in zip(mean, std)],
                                color=color, alpha=0.2)
            ax.set_title(f'{kind}, difficulty {difficulty:g}')
            ax.set_xlabel('pretraining iterations')
            ax.set_ylabel('mIoU (%)')
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def estimate_seconds(settings: dict, pretrain_timing: list,
                     rows: list) -> float:
    """Sequential wall time of ``settings`` (one job) extrapolated from the
    measured runs: per run, its measured fixed cost (wall - iterations x
    median s/iter) plus the new iteration count x the median s/iter.

    Args:
        settings (dict): The experiment to estimate (e.g. :data:`FULL`).
        pretrain_timing (list[dict]): ``wall_s``, ``s_per_iter``, ``iters``
            of measured pretraining runs.
        rows (list[dict]): Measured evaluation results (``eval``,
            ``wall_s``, ``eval_s_per_iter``, ``iters``).

    Returns:
        float: Seconds; NaN if a kind of run was not measured.
    """
    def fixed_and_rate(runs):
        if not runs:
            return float('nan'), float('nan')
        rate = statistics.median(r['s_per_iter'] for r in runs)
        fixed = statistics.median(r['wall_s'] - r['iters'] * r['s_per_iter']
                                  for r in runs)
        return max(fixed, 0.), rate

    n_seeds, n_diff = len(settings['seeds']), len(settings['difficulties'])
    n_points = len(checkpoint_iters(settings))
    fixed, rate = fixed_and_rate(pretrain_timing)
    total = 2 * n_seeds * n_diff * (fixed + settings['pretrain_iters'] * rate)
    for kind in EVAL_CONFIGS:
        runs = [dict(wall_s=r['wall_s'], s_per_iter=r['eval_s_per_iter'],
                     iters=r['iters']) for r in rows if r['eval'] == kind]
        fixed, rate = fixed_and_rate(runs)
        total += n_seeds * n_diff * (2 * n_points + 1) * (
            fixed + settings[f'{kind}_iters'] * rate)
    return total


def write_report(out: str, settings: dict, pretrains: list,
                 wall_s: float) -> list:
    """results.csv, results.md and quality.png from the runs under ``out``.

    Returns:
        list[str]: The written paths.
    """
    rows = collect(out)
    if not rows:
        raise FileNotFoundError(f'no result.json under {out}: nothing to '
                                'report (run without --report-only first)')
    csv_path = osp.join(out, 'results.csv')
    with open(csv_path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS,
                                extrasaction='ignore')
        writer.writeheader()
        writer.writerows(rows)
    summary = summarize(rows)
    png_path = osp.join(out, 'quality.png')
    plot(summary, png_path)

    timing = []
    for run in pretrains:
        path = osp.join(run['work_dir'], 'timing.json')
        if osp.isfile(path):
            with open(path) as f:
                timing.append(dict(json.load(f),
                                   iters=settings['pretrain_iters']))
    iters_of = {k: settings[f'{k}_iters'] for k in EVAL_CONFIGS}
    measured = [dict(r, iters=iters_of[r['eval']]) for r in rows]
    estimate = estimate_seconds(FULL, timing, measured)
    eval_wall = sum(r['wall_s'] for r in rows)
    pre_wall = sum(t['wall_s'] for t in timing)
    md_path = osp.join(out, 'results.md')
    with open(md_path, 'w') as f:
        f.write('# Downstream quality on the synthetic scenes\n\n')
        f.write(f'Settings: `{json.dumps(settings)}`\n\n')
        f.write('## mIoU (%) at the last pretraining iteration, mean +- std '
                'over seeds\n\n' + final_table(summary) + '\n\n')
        f.write('## mIoU against pretraining iterations\n\n' +
                curve_table(summary) + '\n\n![mIoU](quality.png)\n\n')
        f.write('## Wall time\n\n')
        if wall_s is not None:
            f.write(f'- this invocation: {wall_s / 60:.1f} min\n')
        f.write(f'- runs recorded: pretraining {pre_wall / 60:.1f} min '
                f'({len(timing)} runs), evaluation {eval_wall / 60:.1f} min '
                f'({len(rows)} runs)\n')
        if timing:
            f.write('- pretraining s/iter (median): ' + ', '.join(
                f"{t['s_per_iter']:.2f}" for t in timing) + '\n')
        f.write(f'- estimated full run (`{json.dumps(FULL)}`), one job at a '
                f'time, from these measurements: {estimate / 3600:.1f} h\n')
    return [csv_path, md_path, png_path]


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=None,
                        help='default work_dirs/quality (--quick: '
                        'work_dirs/quality_quick)')
    parser.add_argument('--quick', action='store_true',
                        help=f'smoke run: {QUICK}')
    parser.add_argument('--seeds', type=int, nargs='+')
    parser.add_argument('--difficulties', type=float, nargs='+')
    for key in ('pretrain_iters', 'eval_every', 'probe_iters',
                'finetune_iters', 'seg_train', 'seg_val'):
        parser.add_argument('--' + key.replace('_', '-'), type=int)
    parser.add_argument('--jobs', type=int, default=1, choices=(1, 2),
                        help='runs at a time')
    parser.add_argument('--threads', type=int, default=1,
                        help='OMP/MKL threads per run')
    parser.add_argument('--dry', action='store_true',
                        help='print the commands of the runs still to do')
    parser.add_argument('--report-only', action='store_true')
    parser.add_argument(
        '--clean-checkpoints', action='store_true',
        help='delete intermediate pretraining checkpoints once evaluated '
        '(~140 MB each; the full run keeps 36)')
    return parser.parse_args(argv)


def settings_from_args(args) -> dict:
    """The experiment settings: --quick or full defaults, then overrides."""
    settings = dict(QUICK if args.quick else FULL)
    for key in settings:
        value = getattr(args, key)
        if value is not None:
            settings[key] = list(value) if isinstance(value, list) else value
    for d in settings['difficulties']:
        if not 0 <= d <= 1:
            raise SystemExit(f'difficulty must be in [0, 1], got {d}')
    if settings['eval_every'] < 1 or settings['pretrain_iters'] < 1:
        raise SystemExit('--pretrain-iters and --eval-every must be >= 1')
    return settings


def check_settings(out: str, settings: dict) -> None:
    """Keep one experiment per output dir: results of other settings would
    be mixed into the tables.

    Raises:
        SystemExit: ``out`` holds an experiment with other settings.
    """
    path = osp.join(out, 'settings.json')
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        if old != settings:
            raise SystemExit(
                f'{out} holds an experiment with other settings ({old}); '
                'pass another --out or delete it.')
        return
    os.makedirs(out, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(settings, f, indent=1)


def main(argv=None):
    args = parse_args(argv)
    settings = settings_from_args(args)
    out = osp.abspath(args.out or osp.join(
        'work_dirs', 'quality_quick' if args.quick else 'quality'))
    pretrains, evals = plan(settings, out)
    if not args.dry:
        check_settings(out, settings)
    env = thread_env(args.threads)
    start = time.perf_counter()
    if not args.report_only:
        run_all(run_pretrain, pretrains, args.jobs, env, args.dry)
        run_all(run_eval, evals, args.jobs, env, args.dry)
    if args.clean_checkpoints and not args.dry:
        clean_checkpoints(pretrains, evals)
    if args.dry:
        return None
    wall = None if args.report_only else time.perf_counter() - start
    paths = write_report(out, settings, pretrains, wall)
    with open(paths[1]) as f:
        print(f.read())
    print('written: ' + ', '.join(paths))
    return paths


if __name__ == '__main__':
    main()
