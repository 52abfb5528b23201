"""Evaluate a checkpoint with the mmengine runner (mmseg-style CLI).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show] [--show-dir DIR] [--cfg-options k=v ...] [--launcher ...]
        [--allow-partial-load]

The checkpoint loads weights-only and must cover the whole model: a file
that leaves weights unloaded is an error (no metric is computed for weights
that were never loaded) unless ``--allow-partial-load`` is given.
"""
import argparse
import os
import os.path as osp

from projects.depth_pixpro import checkpoint  # noqa: I001  (first: shim)
from projects.depth_pixpro.cfg_options import (CfgOptionsAction,
                                               load_config)
from projects.depth_pixpro.device import (build_runner, exit_with_launcher,
                                          setup_launch, stop_on_sigterm)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='directory where the predicted segmentation maps are saved')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where colour overlays of the predictions are saved')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override config settings, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--tta', action='store_true', help='test time aug')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='accept a checkpoint that covers only part of the model '
        '(missing keys, other shapes); an error otherwise')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg, args):
    """--show: drawing on in the config's visualization hook (mmseg's way);
    --show-dir: one figure per test image, named after it
    (SegOverlayHook)."""
    hooks = cfg.get('default_hooks', {})
    if args.show:
        if 'visualization' not in hooks:
            raise SystemExit('--show needs a `visualization` hook in '
                             'default_hooks (mmseg SegVisualizationHook).')
        hook = hooks['visualization']
        hook['draw'] = True
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        hooks['seg_overlay'] = dict(type='SegOverlayHook',
                                    out_dir=args.show_dir)
        cfg.default_hooks = hooks
    return cfg


def main(argv=None):
    args = parse_args(argv)
    exit_with_launcher()
    cfg = load_config(args.config, args.cfg_options)
    if cfg.get('test_dataloader') is None or cfg.get('test_evaluator') is None:
        raise SystemExit(
            f'{args.config} has no test_dataloader/test_evaluator. Pretraining '
            'configs are evaluated downstream: convert the checkpoint and '
            'fine-tune with configs/segmentation/* (README, "Workflow").')
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    setup_launch(cfg, args.launcher)
    checkpoint.ensure_checkpoint_hooks(cfg, args.allow_partial_load)
    runner = build_runner(cfg)
    try:
        with stop_on_sigterm():  # SIGTERM unwinds: DataLoader workers end
            runner.test()
    except checkpoint.CheckpointLoadError as err:
        raise SystemExit(f'error: {args.checkpoint}: {err}')


if __name__ == '__main__':
    main()
