"""GPU check: the measurements a CUDA machine should give, in one command.

    bash benchmarks/gpu_check.sh [--out DIR]      # or python benchmarks/gpu_check.py

On CUDA (about 8 minutes on one modern GPU, <= 10 planned):

1. train-step pairs/s of the plain PixPro step (``plain_pixpro.py``: the
   official model code written out, torch + torchvision only), PixPro (1
   and 3 scales), DepthPixPro (depth filter + 3 scales) eager and compiled
   (``compile_step``, with its warm-up time), each cell statistic (mean,
   median, center) and the same-surface test: ResNet-50 @ 224, batch 64,
   AMP fp16, their speed ratio to the plain step, the head's loss +
   backward time and the peak GPU memory of each
   (``benchmarks/train_step.py --variants paCcifgh``);
2. host work per step of the plain step, PixPro and DepthPixPro eager and
   compiled: host syncs, kernel launches, aten ops, Python calls
   (``benchmarks/step_profile.py --variants pacC``);
3. a 200-iteration ``tools/dist_train.sh`` run (1 GPU, NCCL, SyncBN) of the
   ResNet-50 recipe on the synthetic rooms at 224
   (``benchmarks/configs/depth_pixpro_r50_synthetic_224.py``), printing the
   loss, ``feat_std`` / ``feat_cos`` (collapse monitor), s/iter and peak
   memory from the run's log.

Without CUDA it says so and runs a tiny CPU smoke of the same two code
paths (ResNet-50 at 64 pixels, batch 2, 2 iterations, gloo), then exits 0.
Output: markdown on stdout and ``DIR/gpu_check.md`` (default
``work_dirs/gpu_check``).
"""
import argparse
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import time

from projects.depth_pixpro.utils.scripts import (free_port, read_scalars,
                                                 repo_root)

REPO_ROOT = repo_root()
RECIPE = osp.join('benchmarks', 'configs', 'depth_pixpro_r50_synthetic_224.py')
#: train_step.py: the plain PixPro step (p) vs PixPro (a; i: 3 scales) vs
#: DepthPixPro, depth filter + 3 scales (c: mean, C: compiled, f: median,
#: g: center; h: the same-surface test).
GPU_MODEL = ['--arch', 'resnet50', '--size', '224', '--batch', '64', '--amp']
GPU_TRAIN_STEP = GPU_MODEL + ['--variants', 'paCcifgh', '--iters', '10',
                              '--repeats', '3']
GPU_STEP_PROFILE = GPU_MODEL + ['--variants', 'pacC', '--steps', '3']
CPU_MODEL = ['--arch', 'resnet50', '--size', '64', '--batch', '2',
             '--hid-channels', '64', '--out-channels', '32']
CPU_TRAIN_STEP = CPU_MODEL + ['--variants', 'pac', '--iters', '1',
                              '--repeats', '1', '--warmup', '1', '--no-memory']
CPU_STEP_PROFILE = CPU_MODEL + ['--variants', 'pac', '--steps', '1',
                                '--warmup', '1']
CPU_RUN_OPTIONS = [
    'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'train_dataloader.dataset.num_samples=4',
    'train_dataloader.dataset.img_size=64',
    'train_dataloader.dataset.pipeline.0.transforms.0.0.scale=64',
    'train_dataloader.dataset.pipeline.0.transforms.1.0.scale=64',
    'model.neck.hid_channels=64', 'model.neck.out_channels=32',
    'model.head.in_channels=32', 'default_hooks.logger.interval=1'
]


def run_summary(records: list) -> dict:
    """What the check prints of a training run's ``scalars.json`` records:
    the last logged loss, feat_std, feat_cos and iteration, the median
    s/iter and the peak ``memory`` (MiB, CUDA runs only).

    Raises:
        ValueError: No training record.
    """
    train = [r for r in records if 'loss' in r]
    if not train:
        raise ValueError('the run logged no training record')
    last = train[-1]
    memory = [r['memory'] for r in train if 'memory' in r]
    return dict(
        iteration=last.get('step', last.get('iter')),
        loss=last['loss'],
        feat_std=last.get('feat_std', float('nan')),
        feat_cos=last.get('feat_cos', float('nan')),
        s_per_iter=statistics.median(r['time'] for r in train
                                     if 'time' in r),
        peak_memory_mib=max(memory) if memory else None)


def summary_table(summary: dict) -> str:
    """Markdown row of :func:`run_summary`."""
    memory = summary['peak_memory_mib']
    return ('| iteration | loss | feat_std | feat_cos | s/iter | peak memory '
            'MiB |\n|---:|---:|---:|---:|---:|---:|\n'
            f"| {summary['iteration']} | {summary['loss']:.4f} | "
            f"{summary['feat_std']:.3f} | {summary['feat_cos']:.3f} | "
            f"{summary['s_per_iter']:.3f} | "
            f"{'-' if memory is None else f'{memory:.0f}'} |")


def _run(cmd: list, env: dict) -> str:
    """Run ``cmd`` from the repo root; its stdout (stderr passes through).

    Raises:
        RuntimeError: The command failed.
    """
    print('+ ' + ' '.join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    print(result.stdout, flush=True)  # kept even if a later step fails
    if result.returncode != 0:
        raise RuntimeError(f'exit {result.returncode}: {" ".join(cmd)}')
    return result.stdout


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=osp.join('work_dirs', 'gpu_check'))
    args = parser.parse_args(argv)
    import torch
    cuda = torch.cuda.is_available()
    out = osp.abspath(args.out)
    work_dir = osp.join(out, 'r50_synthetic_224')
    shutil.rmtree(work_dir, ignore_errors=True)  # one fresh log
    env = dict(os.environ, PORT=str(free_port()))
    env.setdefault('OMP_NUM_THREADS', '1')
    lines = []
    if cuda:
        lines.append(f'# GPU check on {torch.cuda.get_device_name(0)}')
        step_args, profile_args, run_options = (GPU_TRAIN_STEP,
                                                GPU_STEP_PROFILE, [])
    else:
        print('no CUDA device: running a tiny CPU smoke of the same code '
              'paths (no measurement)', flush=True)
        lines.append('# GPU check: no CUDA device, CPU smoke only')
        step_args, profile_args, run_options = (CPU_TRAIN_STEP,
                                                CPU_STEP_PROFILE,
                                                CPU_RUN_OPTIONS)

    start = time.perf_counter()
    table = _run([sys.executable,
                  osp.join(REPO_ROOT, 'benchmarks', 'train_step.py'),
                  *step_args], env)
    lines += ['',
              '## Train step: the plain PixPro step (p) vs PixPro (a, i) vs '
              'the depth tests (c, C compiled, f, g, h)',
              '',
              table.strip()]
    profile = _run([sys.executable,
                    osp.join(REPO_ROOT, 'benchmarks', 'step_profile.py'),
                    *profile_args], env)
    lines += ['', '## Host work per step (step_profile.py)', '',
              profile.strip()]
    train_cmd = ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'),
                 RECIPE, '1', '--work-dir', work_dir]
    if run_options:
        train_cmd += ['--cfg-options', 'train_cfg.max_epochs=1',
                      *run_options]
    _run(train_cmd, env)
    summary = run_summary(read_scalars(work_dir))
    lines += ['', f'## {RECIPE}: 1 process, dist_train.sh', '',
              summary_table(summary), '',
              f'check wall time: {time.perf_counter() - start:.0f} s']
    report = '\n'.join(lines)
    print('\n' + report)
    os.makedirs(out, exist_ok=True)
    with open(osp.join(out, 'gpu_check.md'), 'w') as f:
        f.write(report + '\n')
    return report


if __name__ == '__main__':
    main()
