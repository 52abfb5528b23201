"""Speed of the data side: synthetic scene generator and RGB-D view pipeline.

    python benchmarks/data_pipeline.py [--num 200] [--out results.md]

Measures images/s on ONE core (BLAS/OpenMP threads pinned to 1):

1. ``render_scene`` at 128x128 (one scene per image);
2. a PixPro-like 2-view pipeline (RGBDRandomResizedCrop 224, flip,
   RGBDColorJitter p=0.8, grayscale p=0.2, blur, solarize on view 2, pack) on a
   640x480 input, with depth and without depth, and mmpretrain's RGB-only
   ``MultiView`` with the same photometric transforms as a reference.

Prints a markdown table (items/s by wall clock and by CPU time; a pipeline
item = one sample = 2 views).
"""
import os

for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

import argparse  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

cv2.setNumThreads(1)

import projects.depth_pixpro  # noqa: E402,F401
from mmpretrain.registry import TRANSFORMS  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

from projects.depth_pixpro.synthetic import render_scene  # noqa: E402


def photometric(second_view: bool) -> list:
    """BYOL/PixPro asymmetric photometric transforms (view 1 or 2)."""
    return [
        dict(type='RandomApply', prob=0.8, transforms=[
            dict(type='RGBDColorJitter', brightness=0.4, contrast=0.4,
                 saturation=0.2, hue=0.1)]),
        dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
             channel_weights=(0.114, 0.587, 0.2989)),
        dict(type='GaussianBlur', magnitude_range=(0.1, 2.0),
             magnitude_std='inf', prob=0.1 if second_view else 1.0),
    ] + ([dict(type='Solarize', thr=128, prob=0.2)] if second_view else [])


def rgbd_pipeline():
    views = [[dict(type='RGBDRandomResizedCrop', scale=224),
              dict(type='RGBDRandomFlip')] + photometric(v == 1)
             for v in range(2)]
    return [TRANSFORMS.build(dict(type='RGBDMultiView', num_views=[1, 1],
                                  transforms=views)),
            TRANSFORMS.build(dict(type='PackRGBDInputs'))]


def rgb_pipeline():
    views = [[dict(type='RandomResizedCrop', scale=224),
              dict(type='RandomFlip', prob=0.5)] + photometric(v == 1)
             for v in range(2)]
    return [TRANSFORMS.build(dict(type='MultiView', num_views=[1, 1],
                                  transforms=views)),
            TRANSFORMS.build(dict(type='PackInputs'))]


def time_rate(fn, num: int, warmup: int = 3) -> tuple:
    """Calls per second of ``fn(i)`` over ``num`` calls, by wall clock and
    by process CPU time (the latter is robust to other jobs sharing the
    core; both are single-threaded)."""
    for i in range(warmup):
        fn(i)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(num):
        fn(i)
    return (num / (time.perf_counter() - wall),
            num / (time.process_time() - cpu))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num', type=int, default=200,
                        help='timed iterations per row (default 200)')
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args()
    np.random.seed(0)
    rows = []

    rate = time_rate(lambda i: render_scene(i, (128, 128)), args.num)
    rows.append(('render_scene 128x128 (1 core)', rate))
    rate = time_rate(lambda i: render_scene(i, (480, 640)),
                     max(args.num // 20, 5))
    rows.append(('render_scene 480x640 (1 core)', rate))

    frames = [render_scene(s, (480, 640)) for s in range(4)]
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        rgbd, rgb = rgbd_pipeline(), rgb_pipeline()

    def run(pipeline, with_depth):
        def step(i):
            frame = frames[i % len(frames)]
            results = dict(img=frame['img'])
            if with_depth:
                results['depth'] = frame['depth']
            for t in pipeline:
                results = t(results)
        return step

    rows.append(('RGBDMultiView 2x224 + pack, 640x480 with depth',
                 time_rate(run(rgbd, True), args.num)))
    rows.append(('RGBDMultiView 2x224 + pack, 640x480 no depth',
                 time_rate(run(rgbd, False), args.num)))
    rows.append(('mmpretrain MultiView 2x224 + pack, 640x480 (RGB only)',
                 time_rate(run(rgb, False), args.num)))

    table = [
        '| stage | items/s (wall) | items/s (CPU time) | CPU ms/item |',
        '|---|---:|---:|---:|'
    ]
    table += [
        f'| {name} | {wall:.1f} | {cpu:.1f} | {1000 / cpu:.2f} |'
        for name, (wall, cpu) in rows
    ]
    text = '\n'.join(table)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
