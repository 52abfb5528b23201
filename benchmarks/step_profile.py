"""Host work of one train step, counted: syncs, ops, launches, Python calls.

For each train_step.py variant (``p``: the plain PixPro reference of
plain_pixpro.py; upper case: the compiled step) ``--warmup`` steps, then
``--steps`` profiled steps; per step:

* ``syncs``: device-to-host conversions, the ``aten::_local_scalar_dense``
  (``.item()``, ``float(t)``, ...) and ``aten::is_nonzero`` (``if t:``,
  ``bool(t)``) ops of the torch profiler; on CUDA also the runtime's
  stream / device / event synchronisations;
* ``aten ops``: every ``aten::`` op dispatched (nested ones included);
* ``leaf ops``: those that call no other aten op (the ones that run a
  kernel; on CPU the closest count to kernel launches);
* ``launches`` (CUDA only): ``cudaLaunchKernel`` and friends;
* ``python calls``: Python function calls (``sys.setprofile``; a separate,
  unprofiled step);
* ``host ms``: wall time of an unprofiled step (on CUDA without a final
  synchronisation: the time the host needs to enqueue it).

Each count is also given as a ratio to the first variant listed (``p`` by
default).

    python benchmarks/step_profile.py --arch resnet18 --size 64 --batch 4 \
        --hid-channels 64 --out-channels 32 --variants pac
    python benchmarks/step_profile.py --variants pac --amp   # on a GPU
"""
import argparse
import collections
import statistics
import sys
import time
from typing import Callable, Dict

import torch
from torch.profiler import ProfilerActivity, profile

if __package__:  # imported as benchmarks.step_profile (tests)
    from . import train_step
else:  # run as a script: its folder is on the import path
    import train_step

#: Ops that copy one device value to the host (the host waits for it).
SYNC_OPS = ('aten::_local_scalar_dense', 'aten::is_nonzero')
#: CUDA runtime calls that block the host or launch a kernel.
CUDA_SYNCS = ('cudaStreamSynchronize', 'cudaDeviceSynchronize',
              'cudaEventSynchronize')
CUDA_LAUNCHES = ('cudaLaunchKernel', 'cudaLaunchKernelExC', 'cuLaunchKernel',
                 'cuLaunchKernelEx')


def count_host_syncs(fn: Callable[[], object]) -> Dict[str, int]:
    """How often ``fn()`` converts a tensor to a Python value, per op name
    of :data:`SYNC_OPS` (CPU profiler: works without a GPU)."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    counts = collections.Counter(
        e.name for e in prof.events() if e.name in SYNC_OPS)
    return {name: counts.get(name, 0) for name in SYNC_OPS}


def profile_counts(fn: Callable[[], object], steps: int,
                   cuda: bool) -> Dict[str, float]:
    """Per-step op counts of ``steps`` calls of ``fn`` (see module doc)."""
    activities = [ProfilerActivity.CPU]
    if cuda:
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        for _ in range(steps):
            fn()
        if cuda:
            torch.cuda.synchronize()
    events = prof.events()
    aten = [e for e in events if e.name.startswith('aten::')]
    leaves = [
        e for e in aten
        if not any(c.name.startswith('aten::') for c in e.cpu_children)
    ]
    names = collections.Counter(e.name for e in events)
    counts = dict(
        syncs=sum(names[n] for n in SYNC_OPS) +
        sum(names[n] for n in CUDA_SYNCS),
        aten_ops=len(aten),
        leaf_ops=len(leaves))
    if cuda:
        counts['launches'] = sum(names[n] for n in CUDA_LAUNCHES)
    return {key: value / steps for key, value in counts.items()}


def count_python_calls(fn: Callable[[], object]) -> int:
    """Python function calls made by one ``fn()``."""
    calls = 0

    def tracer(frame, event, arg):
        nonlocal calls
        if event == 'call':
            calls += 1

    sys.setprofile(tracer)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def host_ms(fn: Callable[[], object], repeats: int = 3) -> float:
    """Median wall ms of ``fn()`` (no synchronisation: the host's time)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    train_step.add_model_arguments(parser)
    parser.add_argument('--variants', default='pac')
    parser.add_argument('--steps', type=int, default=3,
                        help='profiled steps per variant')
    args = parser.parse_args(argv)
    try:
        train_step.check_variants(args.variants)
    except ValueError as error:
        parser.error(str(error))
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = device.type == 'cuda'
    rows = {}
    for variant in args.variants:
        fn, _, _ = train_step.step_closure(variant, args, device)
        for _ in range(max(args.warmup, 1)):  # lazy init, compilation
            fn()
        if cuda:
            torch.cuda.synchronize()
        row = profile_counts(fn, args.steps, cuda)
        row['python_calls'] = count_python_calls(fn)
        row['host_ms'] = host_ms(fn)
        if cuda:
            torch.cuda.synchronize()
        rows[variant] = row
    name = (torch.cuda.get_device_name(device)
            if cuda else f'CPU x{torch.get_num_threads()}')
    print(f'\n{args.arch}@{args.size}, batch {args.batch}, projector '
          f'{args.hid_channels}->{args.out_channels}, '
          f'{"AMP fp16" if train_step.use_amp(args, device) else "fp32"}, '
          f'{name}, per step (mean of {args.steps} profiled steps)\n')
    keys = list(next(iter(rows.values())))
    base = rows[args.variants[0]]
    print('| variant | ' + ' | '.join(
        f'{k.replace("_", " ")} (x {args.variants[0]})' for k in keys) + ' |')
    print('|---|' + '---:|' * len(keys))
    for variant, row in rows.items():
        cells = [(f'{row[k]:.1f}' if k == 'host_ms' else f'{row[k]:.0f}') +
                 (f' ({row[k] / base[k]:.2f})' if base[k] else ' (-)')
                 for k in keys]
        print(f'| ({variant}) {train_step.label(variant)} | ' +
              ' | '.join(cells) + ' |')
    return rows


if __name__ == '__main__':
    main()
