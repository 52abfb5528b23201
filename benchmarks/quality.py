"""Downstream quality: PixPro, its depth variants and random init (synthetic
scenes), with paired statistics.

For every renderer difficulty and seed:

1. pretrain ResNet-18 with each variant (:data:`VARIANTS`: PixPro; + three
   scales only; + the depth filter only; + both, the paper's DepthPixPro;
   DepthPixPro with the same-surface test) under the same budget, data,
   optimiser, seed and crops (``benchmarks/configs/*_r18_synthetic.py``:
   the CPU demo configs), keeping a checkpoint every ``--eval-every``
   iterations;
2. evaluate, on held-out labeled scenes of the same difficulty
   (segmentation seeds from 10,000,000, disjoint from the pretraining
   ones), a random initialisation and:

   * ``probe``: frozen backbone + linear pixel classifier
     (``benchmarks/configs/linear_probe_r18_synthetic.py``), every kept
     checkpoint (the curve),
   * ``finetune``: short FCN-R18-D8 fine-tune
     (``benchmarks/configs/fcn_r18_synthetic_short.py``, from
     ``configs/segmentation/fcn_r18_synthetic_cpu.py``), the last one;

   mIoU and boundary mIoU (``BoundaryIoUMetric``: pixels within 3 of a
   class boundary) on the validation scenes, evaluated once at the end.
3. paired analysis: every variant and PixPro share seed, init, scenes and
   crops, so per seed the difference variant - PixPro is taken; its mean
   +- std, a paired t-test and the count of positive differences are
   reported beside the per-method means.

Every run is a ``tools/train.py`` process writing to its own work dir under
``--out``; a finished run leaves ``result.json`` (evaluations) or its final
checkpoint (pretraining) and is skipped when the script runs again, an
interrupted pretraining resumes from its last checkpoint. The script then
writes ``results.csv`` (one row per evaluation), ``results.md`` (mIoU mean
+- std over seeds at the last pretraining iteration, the paired
differences, the per-iteration curve, wall times and an estimate of the full
run's wall time) and ``quality.png`` (mIoU against pretraining iterations;
0 = random init).

    python benchmarks/quality.py             # 5 seeds x difficulty 0.3, 0.9
    python benchmarks/quality.py --quick         # smoke run (minutes)
    python benchmarks/quality.py --methods pixpro depth_pixpro  # a subset
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
import math
import os
import os.path as osp
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from projects.depth_pixpro.utils.scripts import (read_scalars, repo_root,
                                                 thread_env, tool_command)

REPO_ROOT = repo_root()
CONFIG_DIR = osp.join(REPO_ROOT, 'benchmarks', 'configs')
#: Pretraining variants: (label, config). Only the loss's positive pairs
#: differ between them; ``pixpro`` is the reference of the paired analysis.
VARIANTS = dict(
    pixpro=('PixPro', 'pixpro_r18_synthetic.py'),
    multiscale=('PixPro + 3 scales', 'pixpro_multiscale_r18_synthetic.py'),
    depth_filter=('PixPro + depth filter',
                  'depth_filter_r18_synthetic.py'),
    depth_pixpro=('DepthPixPro (filter + 3 scales)',
                  'depth_pixpro_r18_synthetic.py'),
    surface=('DepthPixPro, surface test 0.05',
             'depth_pixpro_surface_r18_synthetic.py'))
REFERENCE = 'pixpro'
PRETRAIN_CONFIGS = {m: osp.join(CONFIG_DIR, c) for m, (_, c) in
                    VARIANTS.items()}
EVAL_CONFIGS = dict(
    probe=osp.join(CONFIG_DIR, 'linear_probe_r18_synthetic.py'),
    finetune=osp.join(CONFIG_DIR, 'fcn_r18_synthetic_short.py'))
#: Evaluations run on every kept checkpoint (the curve); the others only on
#: the last one.
CURVE_EVALS = ('probe', )
METHODS = ('random', ) + tuple(VARIANTS)
LABELS = dict(random='random init', **{m: v[0] for m, v in VARIANTS.items()})
#: Metrics read from the validation (``BoundaryIoUMetric``'s keys).
METRICS = ('mIoU', 'boundary_mIoU')
METRIC_LABELS = dict(mIoU='mIoU', boundary_mIoU='boundary mIoU')
CSV_FIELDS = ('difficulty', 'eval', 'method', 'seed', 'pretrain_iter',
              'mIoU', 'boundary_mIoU', 'mAcc', 'aAcc', 'boundary_frac',
              'eval_s_per_iter', 'val_s_per_img', 'seg_val', 'wall_s',
              'work_dir')

#: Full experiment and --quick smoke run. ``seg_train``/``seg_val``: labeled
#: held-out scenes for the probe / fine-tune and for their mIoU.
FULL = dict(seeds=[0, 1, 2, 3, 4], difficulties=[0.3, 0.9],
            methods=list(VARIANTS), pretrain_iters=300, eval_every=100,
            probe_iters=200, finetune_iters=100, seg_train=256, seg_val=256)
QUICK = dict(seeds=[0, 1], difficulties=[0.9], methods=list(VARIANTS),
             pretrain_iters=20, eval_every=10, probe_iters=30,
             finetune_iters=10, seg_train=32, seg_val=16)
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
    """Pretraining and evaluation runs of the experiment: per difficulty
    and seed, a pretraining run per variant of ``settings['methods']``, the
    evaluations of :data:`CURVE_EVALS` on each kept checkpoint, the others
    on the last one, and every evaluation of a random initialisation.

    Returns:
        tuple[list[dict], list[dict]]: Pretraining runs (``difficulty``,
        ``seed``, ``method``, ``work_dir``, ``config``, ``options``,
        ``final``: the last checkpoint) and
        evaluation runs (``difficulty``, ``eval``, ``method``, ``seed``,
        ``pretrain_iter``, ``work_dir``, ``config``, ``options``,
        ``checkpoint``: None for random init).
    """
    pretrains, evals = [], []
    cache_dir = osp.join(out, 'scene_cache')
    ckpt_iters = checkpoint_iters(settings)
    methods = ['random'] + [m for m in VARIANTS
                            if m in settings.get('methods', VARIANTS)]
    for difficulty in settings['difficulties']:
        root = osp.join(out, f'difficulty_{difficulty:g}')
        for seed in settings['seeds']:
            for method in methods:
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
                        difficulty=difficulty, seed=seed, method=method,
                        work_dir=pre_dir, config=PRETRAIN_CONFIGS[method],
                        options=options, final=final))
                    points = [(it, osp.join(pre_dir, f'iter_{it}.pth'))
                              for it in ckpt_iters]
                for kind in EVAL_CONFIGS:
                    iters = settings[f'{kind}_iters']
                    for pretrain_iter, ckpt in (
                            points if kind in CURVE_EVALS else points[-1:]):
                        evals.append(dict(
                            difficulty=difficulty, eval=kind, method=method,
                            seed=seed, pretrain_iter=pretrain_iter,
                            work_dir=osp.join(
                                root, kind,
                                f'{method}_s{seed}_it{pretrain_iter}'),
                            config=EVAL_CONFIGS[kind],
                            iters=iters, seg_val=settings['seg_val'],
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
def write_json(path: str, obj) -> None:
    """Write ``obj`` atomically (a finished run is marked by its file)."""
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


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
    write_json(osp.join(run['work_dir'], 'timing.json'),
               dict(wall_s=wall, s_per_iter=median_iter_time(
                   read_scalars(run['work_dir']))))


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
                  boundary_mIoU=metrics.get('boundary_mIoU'),
                  boundary_frac=metrics.get('boundary_frac'),
                  eval_s_per_iter=median_iter_time(records),
                  # validation: seconds per image (batch 1) and images
                  val_s_per_img=metrics.get('time'),
                  seg_val=run.get('seg_val'), wall_s=wall,
                  work_dir=osp.relpath(run['work_dir'], REPO_ROOT))
    write_json(result_path, result)


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


def metric_value(row: dict, metric: str) -> Optional[float]:
    """``row[metric]`` as a float, None if missing or NaN."""
    value = row.get(metric)
    if value is None or value != value:
        return None
    return float(value)


def summarize(rows: list, metric: str = 'mIoU') -> dict:
    """``metric`` mean/std/n per (difficulty, eval, method, pretrain_iter)
    (rows without it are left out)."""
    groups = {}
    for row in rows:
        value = metric_value(row, metric)
        if value is None:
            continue
        key = (row['difficulty'], row['eval'], row['method'],
               row['pretrain_iter'])
        groups.setdefault(key, []).append(value)
    return {key: (*mean_std(v), len(v)) for key, v in groups.items()}


def paired_stats(diffs: list) -> dict:
    """Paired analysis of per-seed differences (variant - reference).

    Args:
        diffs (list[float]): One difference per seed.

    Returns:
        dict: ``mean``, ``std`` (sample), ``n``, ``t`` = mean / (std /
        sqrt(n)) (NaN for n < 2, +-inf for std 0 and mean != 0), ``p``:
        two-sided p-value of the paired t-test with n - 1 degrees of freedom
        (scipy's t distribution; NaN without scipy or for n < 2),
        ``positive``: differences > 0.
    """
    n = len(diffs)
    mean, std = mean_std(diffs)
    t = p = float('nan')
    if n > 1:
        if std > 0:
            t = mean / (std / math.sqrt(n))
        elif mean != 0:
            t = math.copysign(math.inf, mean)
        if t == t:
            try:
                from scipy import stats
                p = float(2 * stats.t.sf(abs(t), n - 1))
            except ImportError:  # the t value stays exact
                pass
    return dict(mean=mean, std=std, n=n, t=t, p=p,
                positive=sum(d > 0 for d in diffs))


def paired_differences(rows: list, metric: str = 'mIoU',
                       reference: str = REFERENCE) -> dict:
    """Per-seed differences of every variant to ``reference`` at the same
    (difficulty, evaluation, pretraining iteration), seeds both have.

    Returns:
        dict: (difficulty, eval, method, pretrain_iter) -> (list[int] seeds,
        list[float] differences), in seed order.
    """
    values = {}
    for row in rows:
        value = metric_value(row, metric)
        if value is not None:
            values[(row['difficulty'], row['eval'], row['method'],
                    row['pretrain_iter'], row['seed'])] = value
    out = {}
    for (difficulty, kind, method, it, seed) in sorted(values):
        if method in ('random', reference):
            continue
        ref = values.get((difficulty, kind, reference, it, seed))
        if ref is None:
            continue
        seeds, diffs = out.setdefault((difficulty, kind, method, it),
                                      ([], []))
        seeds.append(seed)
        diffs.append(values[(difficulty, kind, method, it, seed)] - ref)
    return out


def _last_iters(rows: list) -> dict:
    """(difficulty, eval, method) -> last pretraining iteration with a
    result."""
    last = {}
    for row in rows:
        key = (row['difficulty'], row['eval'], row['method'])
        last[key] = max(last.get(key, -1), row['pretrain_iter'])
    return last


def _evals_of(rows: list) -> list:
    return sorted({r['eval'] for r in rows}, key=list(EVAL_CONFIGS).index)


def final_table(rows: list) -> str:
    """mIoU and boundary mIoU mean +- std (n seeds) at the last pretraining
    iteration of each method, one row per (difficulty, method), one column
    per (evaluation, metric)."""
    evals = _evals_of(rows)
    last = _last_iters(rows)
    summaries = {m: summarize(rows, m) for m in METRICS}
    header = [f'{kind} {METRIC_LABELS[m]}' for kind in evals
              for m in METRICS]
    lines = ['| difficulty | method | pretrain iters | ' +
             ' | '.join(header) + ' |',
             '|---:|---|---:|' + '---:|' * len(header)]
    for difficulty in sorted({r['difficulty'] for r in rows}):
        for method in METHODS:
            iters = {last[k] for k in last if k[0] == difficulty
                     and k[2] == method}
            if not iters:
                continue
            cells = []
            for kind in evals:
                it = last.get((difficulty, kind, method))
                for metric in METRICS:
                    stat = summaries[metric].get(
                        (difficulty, kind, method, it))
                    cells.append('-' if stat is None else
                                 f'{stat[0]:.2f} +- {stat[1]:.2f} '
                                 f'(n={stat[2]})')
            its = '/'.join(str(i) for i in sorted(iters))
            lines.append(f'| {difficulty:g} | {LABELS[method]} | {its} | ' +
                         ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def paired_table(rows: list, reference: str = REFERENCE) -> str:
    """Per-seed differences variant - ``reference`` at the last pretraining
    iteration: mean +- std, t, p, positive / n and the differences."""
    last = _last_iters(rows)
    lines = [f'| difficulty | eval | metric | variant - {LABELS[reference]} '
             '| mean +- std | t | p | positive | per seed |',
             '|---:|---|---|---|---:|---:|---:|---:|---|']
    evals = _evals_of(rows)
    for difficulty in sorted({r['difficulty'] for r in rows}):
        for kind in evals:
            for metric in METRICS:
                diffs = paired_differences(rows, metric, reference)
                for method in METHODS:
                    key = (difficulty, kind, method,
                           last.get((difficulty, kind, method)))
                    if key not in diffs:
                        continue
                    seeds, values = diffs[key]
                    s = paired_stats(values)
                    per_seed = ', '.join(f'{v:+.2f}' for v in values)
                    lines.append(
                        f'| {difficulty:g} | {kind} | {METRIC_LABELS[metric]}'
                        f' | {LABELS[method]} | {s["mean"]:+.2f} +- '
                        f'{s["std"]:.2f} | {s["t"]:.2f} | {s["p"]:.3f} | '
                        f'{s["positive"]}/{s["n"]} | {per_seed} |')
    return '\n'.join(lines)


def curve_table(summary: dict) -> str:
    """Every (difficulty, evaluation, method, pretraining iteration)."""
    lines = ['| difficulty | eval | method | pretrain iter | mean | '
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
    pretrained curves and drawn as a dashed line. Evaluations outside
    :data:`CURVE_EVALS` (last checkpoint only): one point with an error bar
    per variant."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    difficulties = sorted({k[0] for k in summary})
    evals = sorted({k[1] for k in summary}, key=list(EVAL_CONFIGS).index)
    fig, axes = plt.subplots(
        len(difficulties), len(evals), squeeze=False,
        figsize=(4.5 * len(evals), 3.4 * len(difficulties)))
    colors = dict(zip(VARIANTS, ('tab:blue', 'tab:green', 'tab:orange',
                                 'tab:red', 'tab:purple')))
    for r, difficulty in enumerate(difficulties):
        for c, kind in enumerate(evals):
            ax = axes[r][c]
            base = summary.get((difficulty, kind, 'random', 0))
            if base is not None:
                ax.axhline(base[0], color='gray', ls='--',
                           label=LABELS['random'])
            for x, (method, color) in enumerate(colors.items()):
                iters = sorted(k[3] for k in summary
                               if k[:3] == (difficulty, kind, method))
                if not iters:
                    continue
                stats = [summary[(difficulty, kind, method, i)]
                         for i in iters]
                if kind not in CURVE_EVALS:
                    ax.errorbar([x], [stats[-1][0]], yerr=[stats[-1][1]],
                                fmt='o', color=color, capsize=3,
                                label=f'{LABELS[method]} ({iters[-1]} it)')
                    continue
                if base is not None:  # iteration 0 = random init
                    iters, stats = [0] + iters, [base] + stats
                mean = [s[0] for s in stats]
                std = [s[1] for s in stats]
                ax.plot(iters, mean, 'o-', color=color, label=LABELS[method])
                ax.fill_between(iters, [m - s for m, s in zip(mean, std)],
                                [m + s for m, s in zip(mean, std)],
                                color=color, alpha=0.15)
            ax.set_title(f'{kind}, difficulty {difficulty:g}')
            if kind not in CURVE_EVALS:
                ax.set_xticks(range(len(colors)), list(colors), fontsize=7)
                ax.set_xlabel('variant, last checkpoint')
            else:
                ax.set_xlabel('pretraining iterations')
            ax.set_ylabel('mIoU (%)')
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def estimate_seconds(settings: dict, pretrain_timing: list,
                     rows: list) -> float:
    """Sequential wall time of ``settings`` (one job) extrapolated from the
    measured runs: per run of :func:`plan`, its kind's measured fixed cost
    (wall - iterations x median s/iter - validation images x median s/image)
    plus the new iterations x s/iter and validation images x s/image.

    Args:
        settings (dict): The experiment to estimate (e.g. :data:`FULL`).
        pretrain_timing (list[dict]): ``wall_s``, ``s_per_iter``, ``iters``
            of measured pretraining runs.
        rows (list[dict]): Measured evaluation results (``eval``,
            ``wall_s``, ``eval_s_per_iter``, ``iters``; ``val_s_per_img`` and
            ``seg_val`` when known, else the validation counts as fixed).

    Returns:
        float: Seconds; NaN if a kind of run was not measured.
    """
    def median(values):
        return statistics.median(values) if values else 0.

    def fixed_and_rates(runs):
        if not runs:
            return float('nan'), float('nan'), 0.
        rate = statistics.median(r['s_per_iter'] for r in runs)
        val_rate = median([r['val_s_per_img'] for r in runs
                           if r.get('val_s_per_img') and r.get('seg_val')])
        fixed = statistics.median(
            r['wall_s'] - r['iters'] * rate -
            (r.get('seg_val') or 0) * val_rate if r.get('val_s_per_img')
            else r['wall_s'] - r['iters'] * rate for r in runs)
        return max(fixed, 0.), rate, val_rate

    pretrains, evals = plan(settings, '/estimate')
    fixed, rate, _ = fixed_and_rates(pretrain_timing)
    total = len(pretrains) * (fixed + settings['pretrain_iters'] * rate)
    for kind in EVAL_CONFIGS:
        runs = [dict(r, s_per_iter=r['eval_s_per_iter']) for r in rows
                if r['eval'] == kind]
        fixed, rate, val_rate = fixed_and_rates(runs)
        count = sum(run['eval'] == kind for run in evals)
        total += count * (fixed + settings[f'{kind}_iters'] * rate +
                          settings['seg_val'] * val_rate)
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
        f.write('## mIoU and boundary mIoU (%) at the last pretraining '
                'iteration, mean +- std over seeds\n\n' + final_table(rows) +
                '\n\n')
        f.write(f'## Paired differences to {LABELS[REFERENCE]} (same seed, '
                'init, scenes and crops)\n\nt: paired t statistic, p: its '
                'two-sided p-value (n - 1 degrees of freedom), positive: '
                'seeds where the variant is better.\n\n' +
                paired_table(rows) + '\n\n')
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
    parser.add_argument('--methods', nargs='+', choices=list(VARIANTS),
                        help='pretraining variants (default: all; the '
                        f'paired analysis needs {REFERENCE!r})')
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
        '(~140 MB each; the full run writes 150, 50 of them final)')
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


def run_groups(runs: list, settings: dict) -> list:
    """The (difficulty, seed) groups of ``runs`` in the order they are run:
    seed by seed (in ``settings['seeds']`` order), every difficulty of a seed
    before the next seed."""
    groups = dict.fromkeys((r['difficulty'], r['seed']) for r in runs)
    seeds, difficulties = settings['seeds'], settings['difficulties']
    return sorted(groups, key=lambda g: (seeds.index(g[1]),
                                         difficulties.index(g[0])))


def check_settings(out: str, settings: dict) -> dict:
    """Keep one experiment per output dir: results of other settings would
    be mixed into the tables. Other ``methods`` with otherwise equal settings
    are the same experiment with more (or fewer) arms: a variant's runs do
    not depend on which other variants run, so the arms are merged.

    Returns:
        dict: The settings of the experiment in ``out`` (``methods``: every
        variant run there so far or now, in :data:`VARIANTS` order).

    Raises:
        SystemExit: ``out`` holds an experiment with other settings.
    """
    path = osp.join(out, 'settings.json')
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        others = {k: v for k, v in settings.items() if k != 'methods'}
        if {k: v for k, v in old.items() if k != 'methods'} != others:
            raise SystemExit(
                f'{out} holds an experiment with other settings ({old}); '
                'pass another --out or delete it.')
        if old.get('methods') == settings['methods']:
            return old
        both = set(old.get('methods', [])) | set(settings['methods'])
        settings = dict(settings, methods=[m for m in VARIANTS if m in both])
    os.makedirs(out, exist_ok=True)
    write_json(path, settings)
    return settings


def main(argv=None):
    args = parse_args(argv)
    settings = settings_from_args(args)
    out = osp.abspath(args.out or osp.join(
        'work_dirs', 'quality_quick' if args.quick else 'quality'))
    pretrains, evals = plan(settings, out)
    experiment = settings if args.dry else check_settings(out, settings)
    env = thread_env(args.threads)
    start = time.perf_counter()
    if not args.report_only:
        # one (difficulty, seed) at a time, so that --clean-checkpoints
        # keeps one group's checkpoints on disk (~2 GB), not the whole run's;
        # seed-major, so that a run stopped early has as many seeds at every
        # difficulty (the paired tables stay balanced)
        for group in run_groups(pretrains + evals, settings):
            mine = [r for r in pretrains
                    if (r['difficulty'], r['seed']) == group]
            their_evals = [r for r in evals
                           if (r['difficulty'], r['seed']) == group]
            run_all(run_pretrain, mine, args.jobs, env, args.dry)
            run_all(run_eval, their_evals, args.jobs, env, args.dry)
            if args.clean_checkpoints and not args.dry:
                clean_checkpoints(mine, their_evals)
    if args.clean_checkpoints and not args.dry:
        clean_checkpoints(pretrains, evals)
    if args.dry:
        return None
    wall = None if args.report_only else time.perf_counter() - start
    # the report covers every arm of the experiment, not only this call's
    paths = write_report(out, experiment, plan(experiment, out)[0], wall)
    with open(paths[1]) as f:
        print(f.read())
    print('written: ' + ', '.join(paths))
    return paths


if __name__ == '__main__':
    main()
