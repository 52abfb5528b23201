"""Data-parallel scaling of pretraining: 1 vs 2 (or more) processes.

Runs ``tools/train.py`` under ``torch.distributed.run`` (torchrun) once per
process count, at the SAME per-process batch (so the global batch grows with
the processes), on the synthetic CPU config by default. Every run goes
through torchrun and DDP, the one-process run included, so the runs differ
only by the number of processes (NCCL on CUDA, gloo on CPU; see
``projects/depth_pixpro/device.py``).

Throughput is measured from the runner's own log: the per-iteration ``time``
(IterTimerHook: data loading + step, logged every iteration with a window
of 1) of rank 0, median over the iterations after ``--warmup``;
images/s = processes x per-process batch / median s/iter. The wall clock of
each whole run (start-up included) is reported too. Prints a markdown table
and writes it, with the raw numbers, under ``--out``.

    python benchmarks/scaling.py                      # 1 vs 2, 40 iterations
    python benchmarks/scaling.py --quick              # 12 iterations
    python benchmarks/scaling.py --nprocs 1 2 4 \
        --config configs/pixpro_synthetic.py
    python benchmarks/scaling.py --dry                # print the commands

On CPU each process gets ``--threads`` BLAS/OpenMP threads (default 1) and
``--workers`` data-loading workers (default 0, so that N processes use N
cores); run it on a machine with at least max(nprocs) x threads free cores,
or the ratio measures contention instead of scaling. On GPU each process
needs its own GPU.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import time

from projects.depth_pixpro.utils.scripts import (read_scalars, repo_root,
                                                 scalars_files, thread_env,
                                                 tool_command)

REPO_ROOT = repo_root()
DEFAULT_CONFIG = osp.join('configs', 'depth_pixpro_synthetic.py')


def train_command(config: str, nproc: int, work_dir: str, iters: int,
                  batch: int = None, workers: int = None) -> list:
    """torchrun + tools/train.py command of one timed run.

    Args:
        config (str): Pretraining config.
        nproc (int): Processes (torchrun ``--nproc_per_node``).
        work_dir (str): The run's work dir.
        iters (int): Training iterations.
        batch (int, optional): Per-process batch; the config's if None.
        workers (int, optional): Data-loading workers per process; the
            config's if None.

    Returns:
        list[str]: The command.
    """
    options = [
        f'train_cfg.max_iters={iters}',
        # one log record per iteration, not smoothed over a window
        'default_hooks.logger.interval=1',
        'log_processor.window_size=1',
        # no checkpoint: saving is not part of the step
        f'default_hooks.checkpoint.interval={10 * iters}',
        'default_hooks.checkpoint.save_last=False',
    ]
    if batch is not None:
        options.append(f'train_dataloader.batch_size={batch}')
    if workers is not None:
        options += [f'train_dataloader.num_workers={workers}',
                    f'train_dataloader.persistent_workers={workers > 0}']
    return tool_command('train.py', nproc, distributed=True) + [
        config, '--work-dir', work_dir, '--cfg-options', *options
    ]


def read_iter_records(work_dir: str) -> list:
    """Training records (``iter`` and ``time``) of the newest run in
    ``work_dir`` (mmengine's ``<timestamp>/vis_data/scalars.json``, written
    by rank 0).

    Raises:
        FileNotFoundError: No log with iteration times in ``work_dir``.
    """
    logs = scalars_files(work_dir)
    if not logs:
        raise FileNotFoundError(
            f'no {work_dir}/*/vis_data/scalars.json: the training run wrote '
            'no log (see its output above).')
    records = [r for r in read_scalars(work_dir, newest_only=True)
               if 'iter' in r and 'time' in r]
    if not records:
        raise FileNotFoundError(f'{logs[-1]} has no iteration times')
    return records


def throughput(records: list, warmup: int, nproc: int, batch: int) -> dict:
    """Median step time after ``warmup`` iterations and images/s.

    Args:
        records (list[dict]): Log records with ``iter``, ``time`` and
            optionally ``data_time`` (seconds).
        warmup (int): Iterations excluded from the median.
        nproc (int): Processes.
        batch (int): Per-process batch.

    Returns:
        dict: ``s_per_iter``, ``data_s_per_iter``, ``images_per_s``,
        ``timed_iters``.

    Raises:
        ValueError: No iteration left after the warm-up.
    """
    timed = [r for r in records if r['iter'] > warmup]
    if not timed:
        raise ValueError(f'no iteration after the {warmup} warm-up ones '
                         f'({len(records)} logged): raise --iters')
    step = statistics.median(r['time'] for r in timed)
    data = statistics.median(r.get('data_time', 0.) for r in timed)
    return dict(s_per_iter=step, data_s_per_iter=data,
                images_per_s=nproc * batch / step, timed_iters=len(timed))


def markdown_table(rows: list) -> str:
    """Markdown table of the runs; speed-up and efficiency against the
    first row (the smallest process count)."""
    base = rows[0]
    lines = [
        '| processes | batch / process | global batch | s/iter (median) | '
        'data s/iter | images/s | speed-up | efficiency | run wall s |',
        '|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
    ]
    for row in rows:
        speedup = row['images_per_s'] / base['images_per_s']
        efficiency = speedup / (row['nproc'] / base['nproc'])
        lines.append(
            f"| {row['nproc']} | {row['batch']} | "
            f"{row['nproc'] * row['batch']}"
            f" | {row['s_per_iter']:.3f} | {row['data_s_per_iter']:.3f} | "
            f"{row['images_per_s']:.1f} | {speedup:.2f} | {efficiency:.2f} | "
            f"{row['wall_s']:.0f} |")
    return '\n'.join(lines)


def config_batch(config: str) -> int:
    """The per-process batch of ``config``'s train dataloader."""
    from mmengine.config import Config
    return int(Config.fromfile(config).train_dataloader.batch_size)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--nprocs', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--iters', type=int, default=40)
    parser.add_argument('--warmup', type=int, default=10,
                        help='iterations left out of the median')
    parser.add_argument('--batch', type=int, default=None,
                        help='per-process batch (default: the config\'s)')
    parser.add_argument('--workers', type=int, default=None,
                        help='data workers per process (default: 0 on CPU, '
                        'the config\'s on GPU)')
    parser.add_argument('--threads', type=int, default=1,
                        help='OMP/MKL threads per process')
    parser.add_argument('--out', default=osp.join('work_dirs', 'scaling'))
    parser.add_argument('--quick', action='store_true',
                        help='12 iterations, 4 warm-up')
    parser.add_argument('--dry', action='store_true',
                        help='print the commands only')
    args = parser.parse_args(argv)
    if args.quick:
        args.iters, args.warmup = 12, 4
    if args.iters <= args.warmup:
        parser.error('--iters must exceed --warmup')
    return args


def main(argv=None) -> list:
    args = parse_args(argv)
    import torch
    cuda = torch.cuda.is_available()
    config = osp.abspath(args.config)
    if not osp.isfile(config):
        raise SystemExit(f'config not found: {args.config}')
    if cuda and max(args.nprocs) > torch.cuda.device_count():
        raise SystemExit(
            f'{max(args.nprocs)} processes need as many GPUs; '
            f'{torch.cuda.device_count()} visible')
    workers = args.workers if args.workers is not None else (
        None if cuda else 0)
    out = osp.abspath(args.out)
    env = thread_env(args.threads)
    commands = {
        n: train_command(config, n, osp.join(out, f'nproc{n}'), args.iters,
                         args.batch, workers)
        for n in sorted(set(args.nprocs))
    }
    if args.dry:
        for cmd in commands.values():
            print(' '.join(cmd))
        return []
    batch = args.batch or config_batch(config)
    rows = []
    for nproc, cmd in commands.items():
        work_dir = osp.join(out, f'nproc{nproc}')
        shutil.rmtree(work_dir, ignore_errors=True)  # a fresh log per run
        print('+ ' + ' '.join(cmd), flush=True)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        row = throughput(read_iter_records(work_dir), args.warmup, nproc,
                         batch)
        rows.append(dict(nproc=nproc, batch=batch, wall_s=wall, **row))
    device = (torch.cuda.get_device_name(0) if cuda else
              f'CPU ({os.cpu_count()} cores), {args.threads} thread(s) and '
              f'{workers} data worker(s) per process')
    header = (f'{osp.relpath(config, REPO_ROOT)}, {args.iters} iterations '
              f'({args.warmup} warm-up), {device}')
    table = markdown_table(rows)
    print(f'\n{header}\n\n{table}')
    os.makedirs(out, exist_ok=True)
    with open(osp.join(out, 'scaling.md'), 'w') as f:
        f.write(f'{header}\n\n{table}\n')
    with open(osp.join(out, 'scaling.json'), 'w') as f:
        json.dump(dict(config=args.config, device=device, iters=args.iters,
                       warmup=args.warmup, rows=rows), f, indent=1)
    return rows


if __name__ == '__main__':
    main()
