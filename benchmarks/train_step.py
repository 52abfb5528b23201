"""Train-step speed and peak memory of DepthPixPro variants and of a plain
PixPro step.

Variants (all the same backbone, projector and batch):
  (p) plain PixPro: benchmarks/plain_pixpro.py, torch + torchvision only
      (official PixPro's model code written out), the speed reference
  (a) PixPro: C5, one scale, no filter
  (b) + depth filter, one scale
  (c) + depth filter, 3 scales on C5 (T = 0.7, 1.4, 2.8, as the configs)
  (d) + depth filter, C4 and C5 levels (one scale each)
  (e) (d) + normal filter
  (f) (c) with the cell depth statistic pool='median'
  (g) (c) with pool='center'
  (h) (c) with the same-surface test (SurfacePairFilter(0.05), 16 samples)
  (i) PixPro, 3 scales, no filter
An upper-case letter (A, C, ...) is that variant with the compiled step
(``compile_step``: ``torch.compile`` of the networks; ``--compile-mode
reduce-overhead`` adds CUDA graphs); its warm-up steps (compilation) are
timed apart and reported.

The inputs are on the device before timing (uint8 views, crop boxes and
depth maps); each step normalises them, as the configs' data preprocessor.
Runs are interleaved (a, b, ..., a, b, ...) and the median pairs/s (view
pairs, i.e. samples, per second) per variant is reported with its step-time
ratio to the first variant and, when (p) runs, its speed ratio to (p)
(> 1: faster than the plain step). Peak memory: a child process
runs 2 steps of only that variant (so variants do not mask each other) and
reports CUDA max allocated on GPU, its peak RSS on CPU. ``--amp``: fp16
autocast and loss scaling (mmengine ``AmpOptimWrapper``, CUDA only; the
plain step: autocast + ``GradScaler``). The head column times
the head's loss + backward alone on fixed projections: the only part the
variants change, and far less noisy than the whole step on a shared CPU.

    python benchmarks/train_step.py                       # ResNet-50@224 b16
    python benchmarks/train_step.py --arch resnet18 --size 96 --batch 64
    python benchmarks/train_step.py --quick               # ResNet-18@96 b16
    python benchmarks/train_step.py --batch 64 --amp --variants pac  # GPU
"""
import argparse
import json
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

import torch

if __package__:  # imported as benchmarks.train_step (tests, step_profile)
    from . import plain_pixpro
else:  # run as a script: its folder is on the import path
    import plain_pixpro

CHANNELS = dict(resnet18=(256, 512), resnet50=(1024, 2048))
VARIANTS = ('p', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i')
LABELS = dict(
    p='plain PixPro (reference)', a='PixPro, 1 scale', b='depth filter, 1 scale', c='depth, 3 scales',
    d='depth, C4+C5', e='depth + normal, C4+C5',
    f='depth median, 3 scales', g='depth center, 3 scales',
    h='surface 0.05, 3 scales', i='PixPro, 3 scales')
#: Depth test of each variant (``a`` and ``i``: none).
FILTERS = dict(
    f=dict(type='DepthPairFilter', thresh=0.1, pool='median'),
    g=dict(type='DepthPairFilter', thresh=0.1, pool='center'),
    h=dict(type='SurfacePairFilter', thresh=0.05, num_samples=16,
           canvas_size=128))


def label(variant: str) -> str:
    """Table label of a variant letter (upper case: compiled)."""
    return LABELS[variant.lower()] + (', compiled' if variant.isupper()
                                      else '')


def check_variants(variants: str) -> None:
    """Every letter a variant (``P``, a compiled plain step, is not)."""
    unknown = sorted({v for v in variants
                      if v.lower() not in VARIANTS or v == 'P'})
    if unknown:
        raise ValueError(
            f'unknown variant(s) {unknown}; choose from {"".join(VARIANTS)}'
            ' (upper case for the compiled step, not P)')


def variant_cfg(variant, arch, hid_channels, out_channels,
                compile_step=False):
    """Model config of one DepthPixPro variant (not ``p``; lower case)."""
    if variant not in VARIANTS or variant == 'p':
        raise ValueError(f'no DepthPixPro variant {variant!r}')
    c4, c5 = CHANNELS[arch]
    two_levels = variant in ('d', 'e')
    depth_filter = FILTERS.get(variant,
                               dict(type='DepthPairFilter', thresh=0.1))
    filters = [] if variant in ('a', 'i') else [depth_filter]
    if variant == 'e':
        filters.append(dict(type='NormalPairFilter', max_angle_deg=30))
    if variant in ('c', 'f', 'g', 'h', 'i'):
        scales = [dict(spatial_thresh=t) for t in (0.7, 1.4, 2.8)]
    elif two_levels:
        scales = [dict(level=1, spatial_thresh=0.7),
                  dict(level=0, spatial_thresh=0.7, weight=0.5)]
    else:
        scales = [dict(spatial_thresh=0.7)]
    cfg = dict(
        type='DepthPixPro',
        # as the configs (and plain_pixpro.PlainPixProStep): BGR -> RGB,
        # ImageNet mean and std
        data_preprocessor=dict(type='SelfSupDataPreprocessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], to_rgb=True),
        backbone=dict(type='ResNet', depth=int(arch[6:]),
                      out_indices=(2, 3) if two_levels else (3, )),
        neck=dict(type='PixelProjector',
                  in_channels=[c4, c5] if two_levels else c5,
                  hid_channels=hid_channels, out_channels=out_channels),
        head=dict(type='MultiScalePixelHead', in_channels=out_channels,
                  levels=2 if two_levels else 1, scales=scales,
                  filters=filters))
    if compile_step:
        cfg['compile_step'] = compile_step
    return cfg


def make_batch(batch, size, seed=0):
    """uint8 views, crop boxes and a depth map with steps and holes."""
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(seed)
    views = [torch.randint(0, 256, (batch, 3, size, size), generator=gen,
                           dtype=torch.uint8) for _ in range(2)]
    samples = []
    for _ in range(batch):
        lo = torch.rand(2, 2, generator=gen) * 0.4
        hi = lo + 0.4 + torch.rand(2, 2, generator=gen) * 0.2
        coord = torch.cat([lo, hi], dim=1)[:, [0, 1, 2, 3]]
        coord[1] = coord[1, [2, 1, 0, 3]]  # view 2 flipped
        depth = 1. + torch.rand(2, 1, 1, generator=gen) * 4
        depth = depth.expand(2, size, size).clone()
        depth[:, size // 3:, size // 2:] *= 1.5
        depth[torch.rand(2, size, size, generator=gen) < 0.1] = 0.
        sample = DataSample()
        sample.set_field(coord, 'coord')
        sample.set_field(depth, 'depth')
        samples.append(sample)
    return dict(inputs=views, data_samples=samples)


def build(variant, args, device):
    """Model, optimizer wrapper and batch (on ``device``) of one DepthPixPro
    variant."""
    import projects.depth_pixpro  # noqa: F401
    from mmengine.logging import MessageHub
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    from mmpretrain.registry import MODELS
    MessageHub.get_current_instance().update_info('max_iters', 10**6)
    torch.manual_seed(0)
    compile_step = False
    if variant.isupper():
        compile_step = dict(mode=args.compile_mode) if getattr(
            args, 'compile_mode', None) else True
    model = MODELS.build(
        variant_cfg(variant.lower(), args.arch, args.hid_channels,
                    args.out_channels, compile_step)).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    wrapper = AmpOptimWrapper(optimizer=optimizer, dtype='float16') if \
        use_amp(args, device) else OptimWrapper(optimizer)
    batch = make_batch(args.batch, args.size)
    batch = dict(inputs=[v.to(device) for v in batch['inputs']],
                 data_samples=[s.to(device) for s in batch['data_samples']])
    return model, wrapper, batch


def build_plain(args, device):
    """The plain PixPro step (:mod:`benchmarks.plain_pixpro`), its uint8
    views and crop boxes [N, 2, 4] on ``device``: the batch of
    :func:`make_batch`."""
    depth = int(args.arch[6:])
    step = plain_pixpro.build_plain_step(depth, args.hid_channels, args.out_channels,
                            device, amp=use_amp(args, device))
    batch = make_batch(args.batch, args.size)
    views = [v.to(device) for v in batch['inputs']]
    coord = torch.stack([s.coord for s in batch['data_samples']]).to(device)
    return step, views, coord


def step_closure(variant, args, device):
    """One training step of ``variant`` as a closure (built once), and its
    DepthPixPro model and batch (None for ``p``)."""
    if variant == 'p':
        step, views, coord = build_plain(args, device)
        return (lambda: step(views, coord)), None, None
    model, wrapper, batch = build(variant, args, device)
    return (lambda: model.train_step(batch, wrapper)), model, batch


def use_amp(args, device) -> bool:
    """AMP when asked for and on CUDA (mmengine's AMP needs an
    accelerator)."""
    return bool(args.amp) and device.type == 'cuda'


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def probe_memory(args, device):
    """Child process: 2 steps of one variant, print its peak memory in MiB:
    CUDA max allocated, or on CPU the peak RSS (imports and model included:
    differences below the build peak are not visible on CPU)."""
    step, _, _ = step_closure(args.memory_probe, args, device)
    for _ in range(2):
        step()
    if device.type == 'cuda':
        sync(device)
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.
    print(json.dumps(dict(peak_mib=peak)))


def head_ms(model, batch, repeats=20):
    """Median ms of the head's loss (all masks, filters, scales) + backward
    on fixed projections: the only part the variants change."""
    from projects.depth_pixpro.models.algorithms import pixel_losses
    from projects.depth_pixpro.models.utils import stack_field
    data = model.data_preprocessor(batch, True)
    inputs, samples = data['inputs'], data['data_samples']
    device = inputs[0].device
    coord = stack_field(samples, 'coord', device)
    depth = stack_field(samples, 'depth', device)
    with torch.no_grad():
        online = [model.neck(model.backbone(v)) for v in inputs]
        target = [model.neck(model.backbone(v)) for v in inputs]
    online = [[p.clone().requires_grad_(True) for p in v] for v in online]
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        losses = pixel_losses(model.head, online, target,
                              model.head.positive_pairs(coord, depth))
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        sync(device)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def child_peak_memory(variant, argv):
    """Peak memory (MiB) of a child running only ``variant``."""
    out = subprocess.run(
        [sys.executable, osp.abspath(__file__), *argv, '--memory-probe',
         variant],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])['peak_mib']


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The model, batch and device options (shared with step_profile.py)."""
    parser.add_argument('--arch', choices=sorted(CHANNELS),
                        default='resnet50')
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--hid-channels', type=int, default=4096)
    parser.add_argument('--out-channels', type=int, default=256)
    parser.add_argument('--device', default=None)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--amp', action='store_true',
                        help='fp16 mixed precision (CUDA only)')
    parser.add_argument('--compile-mode', default=None,
                        help='torch.compile mode of the upper-case '
                        '(compiled) variants, e.g. reduce-overhead (CUDA '
                        'graphs); default: torch.compile\'s')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps per variant before the timed '
                        'runs (their time is reported)')


def result_table(speeds: dict, heads: dict, memory: dict, order: str,
                 device_type: str, warmups: dict) -> str:
    """Markdown table of the median pairs/s per variant, the step-time
    ratio to the first variant and, with (p), the speed ratio to (p); the
    seconds of the warm-up steps (compilation for upper-case variants)."""
    first = order[0]
    base = statistics.median(speeds[first])
    plain = statistics.median(speeds['p']) if 'p' in speeds else None
    mem_kind = ('CUDA max alloc' if device_type == 'cuda' else
                'process peak RSS')
    lines = [f'| variant | pairs/s | time ratio vs ({first}) | '
             + ('speed vs plain (p) | ' if plain else '')
             + f'head loss+backward ms | {mem_kind} MiB | warm-up s |',
             '|---|---:|---:|' + ('---:|' if plain else '') +
             '---:|---:|---:|']
    for variant in order:
        speed = statistics.median(speeds[variant])
        head = f'{heads[variant]:.2f}' if variant in heads else '-'
        mem = f'{memory[variant]:.0f}' if variant in memory else '-'
        ratio = f' {speed / plain:.3f} |' if plain else ''
        lines.append(f'| ({variant}) {label(variant)} | {speed:.1f} | '
                     f'{base / speed:.3f} |{ratio} {head} | {mem} | '
                     f'{warmups[variant]:.1f} |')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_model_arguments(parser)
    parser.add_argument('--iters', type=int, default=5,
                        help='timed steps per run')
    parser.add_argument('--repeats', type=int, default=5,
                        help='interleaved runs per variant')
    parser.add_argument('--variants', default=''.join(VARIANTS))
    parser.add_argument('--quick', action='store_true',
                        help='ResNet-18@96, batch 16, 2 steps x 3 runs')
    parser.add_argument('--no-memory', action='store_true')
    parser.add_argument('--memory-probe', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        check_variants(args.variants)
    except ValueError as error:
        parser.error(str(error))
    argv = [a for a in sys.argv[1:] if a != '--quick']
    if args.quick:
        args.arch, args.size, args.batch = 'resnet18', 96, 16
        args.iters, args.repeats = 2, 3
        argv += ['--arch', 'resnet18', '--size', '96', '--batch', '16']
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    if args.memory_probe:
        return probe_memory(args, device)
    if args.amp and not use_amp(args, device):
        print('--amp needs CUDA: this run is fp32')
    setups = {v: step_closure(v, args, device) for v in args.variants}
    warmups = {}
    for variant, (step, _, _) in setups.items():  # warm-up, compilation
        start = time.perf_counter()
        for _ in range(max(args.warmup, 1)):
            step()
        sync(device)
        warmups[variant] = time.perf_counter() - start
    speeds = {v: [] for v in setups}
    for _ in range(args.repeats):
        for variant, (step, _, _) in setups.items():
            sync(device)
            start = time.perf_counter()
            for _ in range(args.iters):
                step()
            sync(device)
            elapsed = time.perf_counter() - start
            speeds[variant].append(args.iters * args.batch / elapsed)

    heads = {v: head_ms(model, batch)
             for v, (_, model, batch) in setups.items() if model is not None}
    memory = {}
    if not args.no_memory:  # not of compiled variants: a second compilation
        for variant in setups:
            if not variant.isupper():
                memory[variant] = child_peak_memory(variant, argv)

    name = (torch.cuda.get_device_name(device)
            if device.type == 'cuda' else f'CPU x{torch.get_num_threads()}')
    precision = 'AMP fp16' if use_amp(args, device) else 'fp32'
    print(f'\n{args.arch}@{args.size}, batch {args.batch}, projector '
          f'{args.hid_channels}->{args.out_channels}, {precision}, {name}, '
          f'median of {args.repeats} interleaved runs x {args.iters} '
          'steps\n')
    print(result_table(speeds, heads, memory, args.variants, device.type,
                       warmups))


if __name__ == '__main__':
    main()
