"""Wall clock of the README quick start under several thread settings, with
the machine's load beside every figure.

The quick start is ``python tools/train.py configs/depth_pixpro_synthetic.py``
(300 iterations, 2 data workers, a dense probe every 50 iterations). Each
variant runs it with another thread environment; rounds interleave the
variants, so that a change of load hits all of them:

* ``chosen``: no ``OMP_NUM_THREADS``, the tool's own choice
  (``projects/depth_pixpro/utils/threads.py``: CPUs // (1 + workers));
* ``omp1``: ``OMP_NUM_THREADS=1`` (one thread per process);
* ``all-cores``: ``OMP_NUM_THREADS=<CPUs>``: every process takes every core,
  what PyTorch and OpenBLAS do when nobody chooses (the baseline).

Per run: the wall clock of the whole command (start-up, probes and
checkpoints included), the median ``time`` per iteration of the runner's log
(IterTimerHook, data + step; the first logged window left out), the peak
resident memory of the largest process, and the 1-minute load average
before and after (``os.getloadavg``) with the CPU count. A figure is only as
good as its load: on a shared machine compare variants of the same round.

    python benchmarks/quick_start.py                        # 300 iterations, 3 variants
    python benchmarks/quick_start.py --iters 30 --rounds 2  # a shorter comparison
    python benchmarks/quick_start.py --variants chosen      # the README's quick start only
    python benchmarks/quick_start.py --quick                # 4 iterations: does it work
    python benchmarks/quick_start.py --dry                  # print the commands

Output: ``--out`` (default ``work_dirs/quick_start``): ``quick_start.md``,
``quick_start.json`` and a work dir per run.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import time
from typing import Dict, List, Optional

from projects.depth_pixpro.utils.scripts import (THREAD_VARS, read_scalars,
                                                 repo_root, tool_command)
from projects.depth_pixpro.utils.threads import available_cpus

REPO_ROOT = repo_root()
CONFIG = osp.join('configs', 'depth_pixpro_synthetic.py')
VARIANTS = ('chosen', 'omp1', 'all-cores')


def variant_env(variant: str, num_cpus: int,
                base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment of one variant's run (see the module docstring).

    Args:
        variant (str): One of :data:`VARIANTS`.
        num_cpus (int): CPUs of the machine (``all-cores``).
        base (dict, optional): Environment to start from; ``os.environ``.

    Returns:
        dict: A copy of ``base`` without any thread variable, plus the
        variant's ``OMP_NUM_THREADS``.
    """
    if variant not in VARIANTS:
        raise ValueError(f'unknown variant {variant!r}; choose from '
                         f'{", ".join(VARIANTS)}')
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if k not in THREAD_VARS}
    if variant == 'omp1':
        env['OMP_NUM_THREADS'] = '1'
    elif variant == 'all-cores':
        env['OMP_NUM_THREADS'] = str(num_cpus)
    return env


def run_command(work_dir: str, iters: Optional[int]) -> List[str]:
    """``tools/train.py`` on the quick-start config (``iters``: fewer
    iterations than its 300; the schedule is otherwise the config's)."""
    command = tool_command('train.py') + [CONFIG, '--work-dir', work_dir]
    if iters is not None:
        command += ['--cfg-options', f'train_cfg.max_iters={iters}']
    return command


def seconds_per_iter(records: List[dict]) -> Optional[float]:
    """Median logged ``time`` of the training records, the first logged
    window (start-up, first batches) left out when there are others."""
    times = [r['time'] for r in records if 'time' in r and 'iter' in r]
    if len(times) > 1:
        times = times[1:]
    return statistics.median(times) if times else None


def timed_run(variant: str, work_dir: str, iters: Optional[int],
              num_cpus: int) -> dict:
    """Run one variant; its figures with the load around it."""
    shutil.rmtree(work_dir, ignore_errors=True)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    process = subprocess.Popen(run_command(work_dir, iters), cwd=REPO_ROOT,
                               env=variant_env(variant, num_cpus),
                               stdout=subprocess.DEVNULL)
    # wait4: this run's own resource usage (its data workers included)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args)
    return dict(
        variant=variant, iters=iters or 300, wall_s=round(wall, 1),
        s_per_iter=seconds_per_iter(read_scalars(work_dir)),
        # KiB on Linux: the largest process of the run
        peak_rss_mb=round(usage.ru_maxrss / 1024),
        load_before=round(load_before, 2),
        load_after=round(os.getloadavg()[0], 2), cpus=num_cpus,
        date=time.strftime('%Y-%m-%d %H:%M'))


def markdown(rows: List[dict]) -> str:
    """The results as a markdown table, one row per run."""
    lines = ['| round | variant | iterations | wall clock | s/iter (median) '
             '| peak RSS (MB) | load before / after (CPUs) | date |',
             '|---:|---|---:|---:|---:|---:|---|---|']
    for row in rows:
        minutes, seconds = divmod(row['wall_s'], 60)
        spi = row['s_per_iter']
        lines.append(
            f"| {row['round']} | {row['variant']} | {row['iters']} | "
            f'{int(minutes)} min {seconds:.0f} s | '
            f"{'-' if spi is None else f'{spi:.2f}'} | "
            f"{row['peak_rss_mb']} | {row['load_before']} / "
            f"{row['load_after']} ({row['cpus']}) | {row['date']} |")
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time the README quick start under thread settings')
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=VARIANTS)
    parser.add_argument('--iters', type=int,
                        help='iterations (default: the config\'s 300)')
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--quick', action='store_true',
                        help='4 iterations, to check that it works')
    parser.add_argument('--out', default=osp.join('work_dirs', 'quick_start'))
    parser.add_argument('--dry', action='store_true',
                        help='print the commands only')
    args = parser.parse_args(argv)
    if args.quick:
        args.iters = 4
    return args


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    num_cpus = available_cpus()
    rows = []
    for round_index in range(args.rounds):
        for variant in args.variants:
            work_dir = osp.join(args.out, f'{variant}_r{round_index}')
            if args.dry:
                env = variant_env(variant, num_cpus, base={})
                print(' '.join([f'{k}={v}' for k, v in env.items()] +
                               run_command(work_dir, args.iters)))
                continue
            row = dict(timed_run(variant, work_dir, args.iters, num_cpus),
                       round=round_index)
            print(json.dumps(row), flush=True)
            rows.append(row)
    if rows:
        table = markdown(rows)
        print(table)
        os.makedirs(args.out, exist_ok=True)
        with open(osp.join(args.out, 'quick_start.md'), 'w') as f:
            f.write(table + '\n')
        with open(osp.join(args.out, 'quick_start.json'), 'w') as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == '__main__':
    main()
