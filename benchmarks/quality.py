"""Does depth help PixPro's dense features? The preregistered quality
benchmark on the synthetic rooms (protocol: ``benchmarks/README.md``,
"quality.py").

Per seed, every arm of :data:`ARMS` pretrains the same narrow ResNet-18
(same init, scenes, crops and optimiser; only the positive pairs of the loss
differ), then its frozen backbone is read out on labelled held-out scenes by
two converged, deterministic readouts of its C3+C4+C5 features upsampled to
the labels (``evaluation/dense_readouts.py``): a closed-form ridge probe
(the primary metric) and a k-NN label transfer. A random initialisation of
the same seed, a position-only prior and a cell-majority oracle are scored
beside them. The preregistered comparisons (:data:`COMPARISONS`) are paired
per seed and tested with a paired t-test, Holm-corrected over the family.

Per-seed rows go to ``<results>/results.csv`` as soon as a run is scored,
so a stopped experiment resumes from the rows already there (commit them:
a later session's machine may be new); ``--report`` writes
``results.md`` and ``quality.png`` from the csv alone.

    python benchmarks/quality.py --results benchmarks/results/2026-12-04-quality-v2
    python benchmarks/quality.py --quick --results /tmp/q   # smoke run
    python benchmarks/quality.py --results DIR --report     # tables from the csv
    python benchmarks/quality.py --results DIR --dry        # what is left

Pretraining runs are ``tools/train.py`` processes (``--jobs`` at a time,
``OMP_NUM_THREADS=--threads``) in ``--work-dir``; their checkpoints are
deleted once scored (``--keep-checkpoints`` keeps them).
"""
import argparse
import csv
import hashlib
import io
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

import numpy as np
import torch

from projects.depth_pixpro.utils.atomic import atomic_write_bytes
from projects.depth_pixpro.evaluation.paired_stats import (
    holm_adjust, paired_differences, paired_summary, paired_t_power)
from projects.depth_pixpro.utils.scripts import (read_scalars, repo_root,
                                                 thread_env, tool_command)

REPO_ROOT = repo_root()
CONFIG_DIR = osp.join(REPO_ROOT, 'benchmarks', 'configs')
#: Pretraining arms: label and config. Only the loss's positive pairs differ.
ARMS = dict(
    pixpro=('PixPro (T 0.7)', 'quality_pixpro.py'),
    multiscale=('PixPro + 3 scales', 'quality_multiscale.py'),
    depth_pixpro=('DepthPixPro: relative depth filter + 3 scales (paper)',
                  'quality_depth_pixpro.py'),
    surface=('same-surface test + 3 scales', 'quality_surface.py'))
#: The preregistered family: (arm A, arm B, question), tested on A - B.
COMPARISONS = (
    ('surface', 'multiscale', 'the same-surface test, scales held equal'),
    ('depth_pixpro', 'multiscale',
     "the paper's relative depth filter, scales held equal"),
    ('multiscale', 'pixpro', 'the three scales alone'),
)
#: Feature-free references: (arm, readout) rows without a seed.
REFERENCES = dict(position_prior='position-only prior',
                  oracle='cell-majority oracle (stride 8)')
LABELS = dict(random='random init', **{a: v[0] for a, v in ARMS.items()},
              **REFERENCES)
READOUTS = ('ridge', 'knn')
PRIMARY = ('ridge', 'mIoU')

#: The preregistered protocol (benchmarks/README.md); ``seeds`` may grow.
PROTOCOL = dict(
    name='quality-v2',
    arms=list(ARMS),
    seeds=list(range(14)),
    difficulty=0.9,
    render_options=dict(num_objects=[8, 16], object_size=[0.25, 0.8]),
    pretrain_iters=4000,
    seg_size=128,
    seg_train=256,
    seg_val=256,
    # labelled scenes never seen while the design was explored (which
    # scored on the scenes at 0 and 100,000)
    seg_train_first=200_000,
    seg_val_first=300_000,
    levels=[1, 2, 3],
    ridge=1e-2,
    pixels_per_image=512,
    knn_k=20,
    knn_bank_per_image=64,
    knn_stride=8,
    band=3,
    oracle_stride=8,
    alpha=0.05,
    effect_of_interest=1.0,
)
#: Smoke run: the same code paths in minutes.
QUICK = dict(PROTOCOL, name='quality-quick', seeds=[0, 1], pretrain_iters=6,
             seg_size=64, seg_train=8, seg_val=8, pixels_per_image=64,
             knn_bank_per_image=16)
#: Scenes per pretraining seed (``SyntheticRGBDDataset`` seeds from
#: ``seed * SCENE_SEED_STRIDE``), below the segmentation seeds (10,000,000+).
SCENE_SEED_STRIDE = 100_000
CSV_FIELDS = ('protocol', 'arm', 'seed', 'readout', 'mIoU', 'boundary_mIoU',
              'IoU', 'pretrain_iters', 's_per_iter', 'final_loss',
              'pretrain_wall_s', 'eval_wall_s', 'device')


# --------------------------------------------------------------------------
# Pretraining runs
# --------------------------------------------------------------------------
def warmup_iters(iters: int) -> int:
    """Linear warm-up length of a pretraining schedule of ``iters``."""
    return min(20, max(1, iters // 5))


def pretrain_options(protocol: dict, seed: int) -> List[str]:
    """``--cfg-options`` of one pretraining run: its own cosine schedule
    ending at ``pretrain_iters``, the seed, its scenes and difficulty, a
    resumable checkpoint every quarter of the run (one kept)."""
    if not 0 <= seed < SCENE_SEED_STRIDE // 1000:
        raise ValueError(f'seed must be in [0, 100), got {seed}')
    iters = protocol['pretrain_iters']
    warm = warmup_iters(iters)
    return [
        f'train_cfg.max_iters={iters}',
        f'param_scheduler.0.end={warm}',
        f'param_scheduler.1.begin={warm}',
        f'param_scheduler.1.end={iters}',
        f'param_scheduler.1.T_max={iters - warm}',
        f'default_hooks.checkpoint.interval={max(1, iters // 4)}',
        f'default_hooks.logger.interval={min(50, max(1, iters // 2))}',
        'default_hooks.checkpoint.max_keep_ckpts=1',
        f'randomness.seed={seed}',
        f'train_dataloader.dataset.seed={seed * SCENE_SEED_STRIDE}',
        f"train_dataloader.dataset.difficulty={protocol['difficulty']}",
    ]


def run_pretraining(arm: str, seed: int, protocol: dict, work_dir: str,
                    env: dict) -> dict:
    """Pretrain one arm (resuming an interrupted run) and return its final
    checkpoint and timing.

    Raises:
        RuntimeError: The run failed (names its log).
    """
    iters = protocol['pretrain_iters']
    final = osp.join(work_dir, f'iter_{iters}.pth')
    if not osp.isfile(final):
        cmd = tool_command('train.py') + [
            osp.join(CONFIG_DIR, ARMS[arm][1]), '--work-dir', work_dir]
        if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
            cmd.append('--resume')
        cmd += ['--cfg-options', *pretrain_options(protocol, seed)]
        os.makedirs(work_dir, exist_ok=True)
        log_path = osp.join(work_dir, 'run.log')
        start = time.perf_counter()
        with open(log_path, 'a') as log:
            log.write('+ ' + ' '.join(cmd) + '\n')
            log.flush()
            code = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT).returncode
        if code != 0:
            raise RuntimeError(f'pretraining {arm} seed {seed} failed (exit '
                               f'{code}, see {log_path})')
        with open(osp.join(work_dir, 'wall_s.txt'), 'a') as f:
            f.write(f'{time.perf_counter() - start:.1f}\n')
    records = [r for r in read_scalars(work_dir) if 'loss' in r]
    times = sorted(r['time'] for r in records if 'time' in r)
    walls = osp.join(work_dir, 'wall_s.txt')
    wall = (sum(float(x) for x in open(walls).read().split())
            if osp.isfile(walls) else float('nan'))
    return dict(checkpoint=final, pretrain_wall_s=wall,
                s_per_iter=times[len(times) // 2] if times else float('nan'),
                final_loss=records[-1]['loss'] if records else float('nan'))


# --------------------------------------------------------------------------
# Scoring (in process)
# --------------------------------------------------------------------------
class Scorer:
    """Renders the labelled scenes once and scores backbones on them.

    Args:
        protocol (dict): The experiment's protocol.
        cache_dir (str): Where the rendered scenes are kept (``.npz``).
        device (str): Where the features are computed.
    """

    def __init__(self, protocol: dict, cache_dir: str, device: str) -> None:
        from mmengine.config import Config

        from projects.depth_pixpro.datasets.segmentation import \
            SEG_SEED_OFFSET
        from projects.depth_pixpro.synthetic import CLASSES
        self.protocol = protocol
        self.device = device
        splits = dict(
            train=(protocol['seg_train_first'], protocol['seg_train']),
            val=(protocol['seg_val_first'], protocol['seg_val']))
        self.scenes = {
            split: self._render(cache_dir, SEG_SEED_OFFSET + first, num)
            for split, (first, num) in splits.items()}
        self.num_classes = len(CLASSES)
        # every arm normalises its inputs alike (the arms' configs share it)
        preprocessor = Config.fromfile(osp.join(
            CONFIG_DIR, ARMS[protocol['arms'][0]][1])).data_preprocessor
        self.mean = torch.tensor(preprocessor.mean).view(1, 3, 1, 1)
        self.std = torch.tensor(preprocessor.std).view(1, 3, 1, 1)
        self._lock = threading.Lock()

    def _render(self, cache_dir: str, first: int, num: int) -> tuple:
        from projects.depth_pixpro.synthetic import render_scene
        size, difficulty = self.protocol['seg_size'], \
            self.protocol['difficulty']
        options = self.protocol.get('render_options', {})
        key = json.dumps([first, num, size, difficulty, options],
                         sort_keys=True)
        path = osp.join(cache_dir, 'scenes_' + hashlib.sha1(
            key.encode()).hexdigest()[:12] + '.npz')
        if osp.isfile(path):
            with np.load(path) as data:
                return (torch.from_numpy(data['img']),
                        torch.from_numpy(data['label']).long())
        scenes = [render_scene(first + i, (size, size), difficulty,
                               **options) for i in range(num)]
        img = np.stack([s['img'][..., ::-1] for s in scenes])  # BGR -> RGB
        label = np.stack([s['label'] for s in scenes])
        os.makedirs(cache_dir, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, img=img, label=label)
        atomic_write_bytes(buffer.getvalue(), path)
        return torch.from_numpy(img), torch.from_numpy(label).long()

    def backbone(self, arm: str, seed: int,
                 checkpoint: Optional[str]) -> torch.nn.Module:
        """The arm's backbone (levels 0-3 out), from ``checkpoint`` or,
        when None (``arm`` 'random'), randomly initialised from ``seed``
        (the backbone every arm shares)."""
        import logging

        from mmengine.config import Config
        from mmengine.logging import MMLogger
        from mmpretrain.registry import MODELS

        from projects.depth_pixpro.checkpoint.layout import \
            backbone_state_dict
        from projects.depth_pixpro.checkpoint.loading import \
            load_checkpoint_file
        config = ARMS[self.protocol['arms'][0] if arm == 'random' else arm][1]
        cfg = Config.fromfile(osp.join(CONFIG_DIR, config))
        backbone_cfg = dict(cfg.model.backbone.to_dict(),
                            out_indices=(0, 1, 2, 3))
        logger = MMLogger.get_current_instance()
        with self._lock:  # the global torch seed is shared by threads
            level = logger.level
            logger.setLevel(logging.WARNING)  # no per-layer init report
            try:
                torch.manual_seed(seed)
                backbone = MODELS.build(backbone_cfg)
                backbone.init_weights()
            finally:
                logger.setLevel(level)
        if checkpoint is not None:
            state = backbone_state_dict(
                load_checkpoint_file(checkpoint, map_location='cpu'),
                checkpoint, pretraining_only=True)
            backbone.load_state_dict(state, strict=True)
        return backbone.to(self.device)

    @torch.no_grad()
    def levels(self, backbone: torch.nn.Module, images: torch.Tensor,
               batch_size: int = 32) -> List[torch.Tensor]:
        """The protocol's levels of ``images`` (uint8 RGB [N, H, W, 3])."""
        backbone.eval()
        out = []
        for start in range(0, len(images), batch_size):
            x = images[start:start + batch_size].permute(0, 3, 1, 2).float()
            x = ((x - self.mean) / self.std).to(self.device)
            feats = backbone(x)
            out.append([feats[i].float().cpu()
                        for i in self.protocol['levels']])
        return [torch.cat(level) for level in zip(*out)]

    def score(self, arm: str, seed: int,
              checkpoint: Optional[str]) -> Dict[str, dict]:
        """Ridge and k-NN metrics of one backbone (see
        :func:`score_dense_readouts`)."""
        from projects.depth_pixpro.evaluation.dense_readouts import \
            score_dense_readouts
        backbone = self.backbone(arm, seed, checkpoint)
        (train_img, train_label), (val_img, val_label) = (
            self.scenes['train'], self.scenes['val'])
        p = self.protocol
        return score_dense_readouts(
            self.levels(backbone, train_img), train_label,
            self.levels(backbone, val_img), val_label, self.num_classes,
            ridge=p['ridge'], pixels_per_image=p['pixels_per_image'],
            knn_k=p['knn_k'], knn_bank_per_image=p['knn_bank_per_image'],
            knn_stride=p['knn_stride'], band=p['band'], seed=seed)

    def reference_scores(self) -> Dict[str, dict]:
        """Metrics of the position-only prior and the cell-majority
        oracle on the validation scenes."""
        from projects.depth_pixpro.evaluation.dense_readouts import \
            readout_metrics
        from projects.depth_pixpro.evaluation.label_references import (
            cell_majority_oracle, position_prior)
        train_label, val_label = self.scenes['train'][1], \
            self.scenes['val'][1]
        prior = position_prior(train_label, self.num_classes)
        oracle = cell_majority_oracle(val_label,
                                      self.protocol['oracle_stride'],
                                      self.num_classes)
        band = self.protocol['band']
        return dict(
            position_prior=readout_metrics(
                prior.expand_as(val_label), val_label, self.num_classes,
                band),
            oracle=readout_metrics(oracle, val_label, self.num_classes,
                                   band))


# --------------------------------------------------------------------------
# Results file
# --------------------------------------------------------------------------
def read_rows(path: str) -> List[dict]:
    """Rows of a results.csv (numbers parsed; IoU as a list)."""
    if not osp.isfile(path):
        return []
    rows = []
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            for key in ('mIoU', 'boundary_mIoU', 's_per_iter', 'final_loss',
                        'pretrain_wall_s', 'eval_wall_s'):
                row[key] = float(row[key]) if row[key] != '' else math.nan
            row['seed'] = int(row['seed']) if row['seed'] != '' else None
            row['pretrain_iters'] = int(row['pretrain_iters'] or 0)
            row['IoU'] = [float(v) for v in row['IoU'].split()]
            rows.append(row)
    return rows


def write_rows(path: str, rows: List[dict]) -> None:
    """Write ``rows`` atomically, sorted (arm order, seed, readout)."""
    order = list(REFERENCES) + ['random'] + list(ARMS)
    rows = sorted(rows, key=lambda r: (
        order.index(r['arm']), -1 if r['seed'] is None else r['seed'],
        r['readout']))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS,
                            lineterminator='\n')
    writer.writeheader()
    for row in rows:
        out = dict(row)
        out['seed'] = '' if row['seed'] is None else row['seed']
        out['IoU'] = ' '.join(f'{v:.2f}' for v in row['IoU'])
        for key in ('mIoU', 'boundary_mIoU'):
            out[key] = f'{row[key]:.3f}'
        for key in ('s_per_iter', 'final_loss', 'pretrain_wall_s',
                    'eval_wall_s'):
            value = row.get(key, math.nan)
            out[key] = '' if value != value else f'{value:.4g}'
        writer.writerow({k: out.get(k, '') for k in CSV_FIELDS})
    atomic_write_bytes(buffer.getvalue(), path)


def metric_rows(protocol: dict, arm: str, seed: Optional[int],
                scores: Dict[str, dict], **extra) -> List[dict]:
    """One row per readout of ``scores``."""
    return [dict(protocol=protocol['name'], arm=arm, seed=seed,
                 readout=readout, mIoU=m['mIoU'],
                 boundary_mIoU=m['boundary_mIoU'], IoU=m['IoU'], **extra)
            for readout, m in scores.items()]


# --------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------
def check_protocol(results: str, protocol: dict) -> dict:
    """Keep one protocol per results folder; only ``seeds`` may change
    (the union is kept).

    Raises:
        SystemExit: The folder holds another protocol.
    """
    path = osp.join(results, 'settings.json')
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        strip = lambda p: {k: v for k, v in p.items() if k != 'seeds'}  # noqa
        if strip(old) != strip(protocol):
            raise SystemExit(
                f'{results} holds another protocol ({old}); pass another '
                '--results.')
        protocol = dict(protocol,
                        seeds=sorted(set(old['seeds']) | set(protocol['seeds'])))
    os.makedirs(results, exist_ok=True)
    atomic_write_bytes(json.dumps(protocol, indent=1) + '\n', path)
    return protocol


def todo(protocol: dict, seeds: List[int], rows: List[dict],
         arms: Optional[List[str]] = None) -> List[tuple]:
    """(arm, seed) runs of ``seeds`` (and of ``arms``, default all) without
    rows yet, seed-major (a stopped experiment keeps every arm at the same
    seeds); arm ``'random'`` is the random initialisation."""
    done = {(r['arm'], r['seed']) for r in rows}
    wanted = ['random'] + protocol['arms']
    return [(arm, seed) for seed in seeds for arm in wanted
            if (arm, seed) not in done and (arms is None or arm in arms)]


def run_experiment(protocol: dict, seeds: List[int], results: str,
                   work_dir: str, jobs: int, threads: int, device: str,
                   keep_checkpoints: bool = False,
                   arms: Optional[List[str]] = None) -> List[dict]:
    """Pretrain and score every missing (arm, seed) (of ``arms`` only, if
    given); rows are written to ``results/results.csv`` as each run
    finishes.

    Returns:
        list[dict]: Every row of the results file.
    """
    csv_path = osp.join(results, 'results.csv')
    rows = read_rows(csv_path)
    lock = threading.Lock()
    torch.set_num_threads(threads)
    scorer = Scorer(protocol, osp.join(work_dir, 'scene_cache'), device)
    env = thread_env(threads)

    def add(new_rows):
        with lock:
            rows.extend(new_rows)
            write_rows(csv_path, rows)

    if not any(r['arm'] in REFERENCES for r in rows):
        add([row for arm, m in scorer.reference_scores().items()
             for row in metric_rows(protocol, arm, None, {arm: m},
                                    pretrain_iters=0)])

    def run(task):
        arm, seed = task
        run_dir = osp.join(work_dir, f'{arm}_s{seed}')
        timing = dict(pretrain_iters=0)
        checkpoint = None
        if arm != 'random':
            timing = run_pretraining(arm, seed, protocol, run_dir, env)
            checkpoint = timing.pop('checkpoint')
            timing['pretrain_iters'] = protocol['pretrain_iters']
        start = time.perf_counter()
        scores = scorer.score(arm, seed, checkpoint)
        add(metric_rows(protocol, arm, seed, scores, device=device,
                        eval_wall_s=time.perf_counter() - start, **timing))
        print(f'{arm} seed {seed}: ridge mIoU {scores["ridge"]["mIoU"]:.2f}, '
              f'k-NN {scores["knn"]["mIoU"]:.2f}', flush=True)
        if checkpoint is not None and not keep_checkpoints:
            shutil.rmtree(run_dir)

    tasks = todo(protocol, seeds, rows, arms)
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(run, task) for task in tasks]
    errors = [f.exception() for f in futures if f.exception()]
    if errors:
        raise errors[0]
    return rows


# --------------------------------------------------------------------------
# Report (from the csv alone)
# --------------------------------------------------------------------------
def values_by_arm_seed(rows: List[dict], readout: str,
                       metric: str) -> Dict[tuple, float]:
    """``(arm, seed) -> value`` of one readout's metric (seeded rows)."""
    return {(r['arm'], r['seed']): r[metric] for r in rows
            if r['readout'] == readout and r['seed'] is not None}


def reference_value(rows: List[dict], arm: str, metric: str) -> float:
    """A feature-free reference's metric (NaN if absent)."""
    for row in rows:
        if row['arm'] == arm:
            return row[metric]
    return math.nan


def _fmt_ci(s: dict) -> str:
    if not s['n'] > 1:  # no interval from one seed
        return '-'
    return f"[{s['ci_low']:+.2f}, {s['ci_high']:+.2f}]"


def _fmt(value: float, spec: str = '.3f') -> str:
    return '-' if value != value else format(value, spec)


def seeds_done(rows: List[dict], protocol: dict) -> List[int]:
    """The protocol's seeds at which every arm and random init are scored
    (primary metric)."""
    values = values_by_arm_seed(rows, *PRIMARY)
    arms = ['random'] + protocol['arms']
    return [seed for seed in protocol['seeds']
            if all((arm, seed) in values for arm in arms)]


def status_line(rows: List[dict], protocol: dict) -> str:
    """How much of the protocol the rows cover; interim numbers say so."""
    done, planned = len(seeds_done(rows, protocol)), len(protocol['seeds'])
    if done >= planned:
        return (f'Complete: every arm at all {planned} seeds of the '
                'protocol.')
    return (f'**Interim: {done} of the {planned} preregistered seeds have '
            'every arm.** These are not the experiment\'s result: the '
            'comparisons are read when all seeds are in (the run resumes '
            'from these rows).')


def verdict(s: dict, p_adjusted: float, alpha: float,
            planned: Optional[int] = None) -> str:
    """Plain words for one comparison: detected (and which way) or not
    detected, with the interval; ``interim`` while fewer than the
    ``planned`` seeds are in."""
    if planned is not None and s['n'] < planned:
        return f"interim ({s['n']} of {planned} seeds)"
    if p_adjusted == p_adjusted and p_adjusted <= alpha:
        way = 'better' if s['mean'] > 0 else 'worse'
        return f"detected: A {way} (95 % CI {_fmt_ci(s)})"
    return f"not detected (95 % CI {_fmt_ci(s)})"


def comparison_stats(rows: List[dict], readout: str = PRIMARY[0],
                     metric: str = PRIMARY[1]) -> List[dict]:
    """Paired summary of every :data:`COMPARISONS` entry with its Holm
    adjusted p-value over the family."""
    values = values_by_arm_seed(rows, readout, metric)
    out = []
    for arm_a, arm_b, question in COMPARISONS:
        pairs = paired_differences(values, arm_a, arm_b)
        if not pairs:
            continue
        s = paired_summary([d for _, d in pairs])
        out.append(dict(s, arm_a=arm_a, arm_b=arm_b, question=question,
                        seeds=[seed for seed, _ in pairs],
                        diffs=[d for _, d in pairs]))
    adjusted = holm_adjust({i: s['p'] for i, s in enumerate(out)})
    for i, s in enumerate(out):
        s['p_holm'] = adjusted[i]
    return out


def scores_table(rows: List[dict]) -> str:
    """Mean +- std over seeds of every arm and readout, with the
    references."""
    lines = ['| backbone | ridge mIoU | ridge boundary mIoU | k-NN mIoU | '
             'seeds |', '|---|---:|---:|---:|---:|']
    for arm in REFERENCES:
        lines.append(
            f'| {LABELS[arm]} | {reference_value(rows, arm, "mIoU"):.2f} | '
            f'{reference_value(rows, arm, "boundary_mIoU"):.2f} | - | - |')
    for arm in ['random'] + list(ARMS):
        cells, n = [], 0
        for readout, metric in (('ridge', 'mIoU'), ('ridge', 'boundary_mIoU'),
                                ('knn', 'mIoU')):
            values = [v for (a, _), v in values_by_arm_seed(
                rows, readout, metric).items() if a == arm]
            n = max(n, len(values))
            cells.append(f'{np.mean(values):.2f} +- {np.std(values, ddof=1):.2f}'
                         if len(values) > 1 else
                         (f'{values[0]:.2f}' if values else '-'))
        if n:
            lines.append(f'| {LABELS[arm]} | ' + ' | '.join(cells) +
                         f' | {n} |')
    return '\n'.join(lines)


def headroom_lines(rows: List[dict], protocol: dict) -> str:
    """PixPro's margin over random init (paired) and the position prior."""
    values = values_by_arm_seed(rows, *PRIMARY)
    pairs = paired_differences(values, 'pixpro', 'random')
    if not pairs:
        return '(no PixPro run yet)'
    over_random = paired_summary([d for _, d in pairs])
    prior = reference_value(rows, 'position_prior', 'mIoU')
    pixpro = [v for (a, _), v in values.items() if a == 'pixpro']
    over_prior = paired_summary([v - prior for v in pixpro])
    lines = [
        f"- PixPro - random init (same seed): {over_random['mean']:+.2f} "
        f"+- {_fmt(over_random['std'], '.2f')}, 95 % CI "
        f"{_fmt_ci(over_random)} (n={over_random['n']}; bar >= +10: "
        f"{'met' if over_random['mean'] >= 10 else 'not met'})",
        f"- PixPro - position-only prior: {over_prior['mean']:+.2f}, "
        f"95 % CI {_fmt_ci(over_prior)} (bar >= +8: "
        f"{'met' if over_prior['mean'] >= 8 else 'not met'})",
    ]
    return '\n'.join(lines)


def comparisons_table(stats: List[dict], protocol: dict) -> str:
    """The preregistered family: paired differences, CI, p, Holm p."""
    planned = len(protocol['seeds'])
    lines = ['| question | A - B | mean +- std | 95 % CI | p | Holm p | '
             'A better | verdict |', '|---|---|---:|---:|---:|---:|---:|---|']
    for s in stats:
        lines.append(
            f"| {s['question']} | {s['arm_a']} - {s['arm_b']} | "
            f"{s['mean']:+.2f} +- {_fmt(s['std'], '.2f')} | {_fmt_ci(s)} | "
            f"{_fmt(s['p'])} | {_fmt(s['p_holm'])} | "
            f"{s['positive']}/{s['n']} | "
            f"{verdict(s, s['p_holm'], protocol['alpha'], planned)} |")
    return '\n'.join(lines)


def secondary_table(rows: List[dict]) -> str:
    """The same comparisons on the secondary metrics (uncorrected)."""
    lines = ['| A - B | k-NN mIoU | ridge boundary mIoU |', '|---|---:|---:|']
    knn = {(s['arm_a'], s['arm_b']): s
           for s in comparison_stats(rows, 'knn', 'mIoU')}
    band = {(s['arm_a'], s['arm_b']): s
            for s in comparison_stats(rows, 'ridge', 'boundary_mIoU')}
    for arm_a, arm_b, _ in COMPARISONS:
        cells = [f"{d[(arm_a, arm_b)]['mean']:+.2f} {_fmt_ci(d[(arm_a, arm_b)])}"
                 f" (p {_fmt(d[(arm_a, arm_b)]['p'])})"
                 if (arm_a, arm_b) in d else '-' for d in (knn, band)]
        lines.append(f'| {arm_a} - {arm_b} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def power_lines(stats: List[dict], protocol: dict) -> str:
    """Power at the effect of interest with the observed spread (alpha of
    Holm's first step, alpha / m: a bound for every step)."""
    alpha = protocol['alpha'] / max(1, len(COMPARISONS))
    effect = protocol['effect_of_interest']
    out = []
    for s in stats:
        if s['n'] < 2 or not s['std'] > 0:
            continue
        power = paired_t_power(s['n'], effect, s['std'], alpha)
        out.append(f"- {s['arm_a']} - {s['arm_b']}: observed std "
                   f"{s['std']:.2f} over {s['n']} seeds; power to detect "
                   f"+{effect:g} at alpha {alpha:.4f}: {power:.2f}")
    return '\n'.join(out) or '(fewer than 2 paired seeds)'


def per_seed_table(rows: List[dict]) -> str:
    """Ridge mIoU of every arm per seed."""
    values = values_by_arm_seed(rows, *PRIMARY)
    arms = [a for a in ['random'] + list(ARMS)
            if any(k[0] == a for k in values)]
    seeds = sorted({s for _, s in values})
    lines = ['| seed | ' + ' | '.join(arms) + ' |',
             '|---:|' + '---:|' * len(arms)]
    for seed in seeds:
        lines.append(f'| {seed} | ' + ' | '.join(
            f'{values[(a, seed)]:.2f}' if (a, seed) in values else '-'
            for a in arms) + ' |')
    return '\n'.join(lines)


def cost_lines(rows: List[dict]) -> str:
    """Median pretraining speed and wall time of the runs."""
    runs = {(r['arm'], r['seed']): r for r in rows
            if r['readout'] == 'ridge' and r['pretrain_iters']}
    if not runs:
        return '(no pretraining run yet)'
    s_iter = np.nanmedian([r['s_per_iter'] for r in runs.values()])
    wall = np.nanmedian([r['pretrain_wall_s'] for r in runs.values()])
    evals = np.nanmedian([r['eval_wall_s'] for r in rows
                          if r['readout'] == 'ridge' and r['seed'] is not None])
    devices = sorted({r['device'] for r in runs.values() if r['device']})
    return (f'- {len(runs)} pretraining runs on {", ".join(devices)}: median '
            f'{s_iter:.3f} s/iter, {wall / 60:.1f} min per run (wall); '
            f'scoring {evals:.0f} s per backbone')


def summary_block(rows: List[dict], protocol: dict) -> str:
    """The short report (docs): scores, headroom, the family."""
    stats = comparison_stats(rows)
    return '\n\n'.join([
        status_line(rows, protocol), scores_table(rows),
        headroom_lines(rows, protocol),
        comparisons_table(stats, protocol)])


def report(results: str, protocol: dict) -> str:
    """results.md (and quality.png) in ``results`` from its csv.

    Returns:
        str: The markdown written.
    """
    rows = read_rows(osp.join(results, 'results.csv'))
    if not rows:
        raise SystemExit(f'no rows in {results}/results.csv yet')
    stats = comparison_stats(rows)
    text = '\n\n'.join([
        f"# Quality benchmark `{protocol['name']}`",
        'Protocol: `settings.json` beside this file and benchmarks/README.md '
        '("quality.py"). Primary metric: ridge-probe mIoU (%) on the '
        f"{protocol['seg_val']} validation scenes; comparisons paired per "
        'seed, two-sided paired t-test, Holm-corrected over the family of '
        f"{len(COMPARISONS)} at alpha {protocol['alpha']}.",
        status_line(rows, protocol),
        '## Scores (mean +- std over seeds)', scores_table(rows),
        '## Headroom', headroom_lines(rows, protocol),
        '## Preregistered comparisons (ridge mIoU)',
        comparisons_table(stats, protocol),
        '## Secondary metrics (exploratory, not corrected)',
        secondary_table(rows),
        '## Power with the observed spread', power_lines(stats, protocol),
        '## Ridge mIoU per seed', per_seed_table(rows),
        '## Cost', cost_lines(rows)]) + '\n'
    atomic_write_bytes(text, osp.join(results, 'results.md'))
    plot(rows, stats, osp.join(results, 'quality.png'))
    return text


def plot(rows: List[dict], stats: List[dict], path: str) -> None:
    """Left: ridge mIoU per seed and arm (mean +- 95 % CI), the references
    as lines; right: the preregistered paired differences with their CIs."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    values = values_by_arm_seed(rows, *PRIMARY)
    arms = [a for a in ['random'] + list(ARMS)
            if any(k[0] == a for k in values)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for x, arm in enumerate(arms):
        ys = [v for (a, _), v in values.items() if a == arm]
        left.plot([x] * len(ys), ys, 'o', alpha=0.35, color='tab:blue')
        if len(ys) > 1:
            s = paired_summary(ys)
            left.errorbar([x], [s['mean']], yerr=[[s['mean'] - s['ci_low']],
                          [s['ci_high'] - s['mean']]], fmt='s', color='k',
                          capsize=4)
    for arm, style in (('position_prior', ':'), ('oracle', '--')):
        value = reference_value(rows, arm, 'mIoU')
        if value == value and value < 60:
            left.axhline(value, ls=style, color='gray', label=LABELS[arm])
    left.set_xticks(range(len(arms)), [a.replace('_', '\n') for a in arms],
                    fontsize=8)
    left.set_ylabel('ridge-probe mIoU (%)')
    left.set_title('scores per seed (mean, 95 % CI)')
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    for y, s in enumerate(stats):
        right.errorbar([s['mean']], [y], xerr=[[s['mean'] - s['ci_low']],
                       [s['ci_high'] - s['mean']]], fmt='o', color='k',
                       capsize=4)
        right.plot(s['diffs'], [y] * len(s['diffs']), '.', alpha=0.4,
                   color='tab:red')
    right.axvline(0, color='gray')
    right.set_yticks(range(len(stats)),
                     [f"{s['arm_a']} -\n{s['arm_b']}" for s in stats],
                     fontsize=8)
    right.set_xlabel('paired difference, ridge mIoU (points)')
    right.set_title('preregistered comparisons (95 % CI)')
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# --------------------------------------------------------------------------
# Generated blocks in markdown files (docs/results.md, benchmarks/README.md)
# --------------------------------------------------------------------------
def block_markers(results: str) -> tuple:
    """Begin / end markers of the generated block of a results folder."""
    name = osp.basename(osp.normpath(results))
    return (f'<!-- generated by benchmarks/quality.py --report from '
            f'benchmarks/results/{name}/results.csv; do not edit -->',
            f'<!-- end of {name} -->')


def update_block(path: str, results: str, block: str) -> bool:
    """Replace the generated block of ``results`` in ``path`` (if the file
    holds its markers).

    Returns:
        bool: Whether the file holds the block.
    """
    begin, end = block_markers(results)
    with open(path) as f:
        text = f.read()
    if begin not in text:
        return False
    head, rest = text.split(begin, 1)
    if end not in rest:
        raise ValueError(f'{path}: {begin!r} without {end!r}')
    tail = rest.split(end, 1)[1]
    new = f'{head}{begin}\n{block}\n{end}{tail}'
    if new != text:
        atomic_write_bytes(new, path)
    return True


def generated_block(results: str) -> str:
    """The block that ``--report`` writes into the markdown files."""
    with open(osp.join(results, 'settings.json')) as f:
        protocol = json.load(f)
    return summary_block(read_rows(osp.join(results, 'results.csv')),
                         protocol)


#: The markdown files that hold generated blocks (the README links to
#: docs/results.md; tests/test_benchmarks/test_quality.py checks no other
#: file holds one).
DOC_FILES = ('docs/results.md', 'benchmarks/README.md')


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--results', required=True,
                        help='folder of settings.json / results.csv (commit '
                        'it: benchmarks/results/<date>-<name>)')
    parser.add_argument('--work-dir', default=None,
                        help='pretraining runs and the scene cache (default '
                        'work_dirs/<protocol name>)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run of the same code paths')
    parser.add_argument('--seeds', type=int, nargs='+',
                        help='seeds to run now (default: the protocol\'s)')
    parser.add_argument('--arms', nargs='+',
                        choices=['random'] + list(ARMS),
                        help='arms to run now (default: all; the report '
                        'still covers every arm of the protocol)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs at a time (CPU: one per core)')
    parser.add_argument('--threads', type=int, default=1,
                        help='OMP threads per run and for scoring')
    parser.add_argument('--device', default='cpu',
                        help='device of the scoring (pretraining picks CUDA '
                        'itself when present)')
    parser.add_argument('--keep-checkpoints', action='store_true')
    parser.add_argument('--dry', action='store_true',
                        help='print the runs still to do')
    parser.add_argument('--report', action='store_true',
                        help='only write results.md / quality.png and the '
                        'generated blocks of docs/results.md and '
                        'benchmarks/README.md from the csv')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    results = osp.abspath(args.results)
    protocol = dict(QUICK if args.quick else PROTOCOL)
    if args.report:
        with open(osp.join(results, 'settings.json')) as f:
            protocol = json.load(f)
    else:
        # the planned seeds stay in settings.json when a part runs now
        protocol = check_protocol(results, dict(protocol, seeds=sorted(
            set(protocol['seeds']) | set(args.seeds or []))))
        seeds = args.seeds or protocol['seeds']
        if args.dry:
            rows = read_rows(osp.join(results, 'results.csv'))
            for arm, seed in todo(protocol, seeds, rows, args.arms):
                print(f'{arm} seed {seed}')
            return None
        work_dir = osp.abspath(args.work_dir or osp.join(
            REPO_ROOT, 'work_dirs', protocol['name']))
        run_experiment(protocol, seeds, results, work_dir, args.jobs,
                       args.threads, args.device, args.keep_checkpoints,
                       args.arms)
    text = report(results, protocol)
    block = generated_block(results)
    for doc in DOC_FILES:
        path = osp.join(REPO_ROOT, doc)
        if osp.isfile(path) and update_block(path, results, block):
            print(f'updated {doc}')
    print(text)
    return text


if __name__ == '__main__':
    main()
