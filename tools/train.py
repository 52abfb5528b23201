"""Train a model (pretraining or segmentation) with the mmengine runner.

Same CLI as mmseg/mmpretrain's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
        [--trust-checkpoint] [--allow-partial-load]

Checkpoints load weights-only (``--trust-checkpoint`` is the explicit opt-in
for the one file this run resumes or loads), must cover the whole model
(``--allow-partial-load`` accepts less), and are written atomically. A run
holds its work dir (``<work_dir>/.train.lock``; a second run there stops)
and SIGTERM stops it cleanly, DataLoader workers included.
"""
import argparse
import gc
import os
import os.path as osp

from projects.depth_pixpro import checkpoint  # noqa: I001  (first: shim)
from projects.depth_pixpro.cfg_options import (CfgOptionsAction,
                                               check_schedule,
                                               load_config)
from projects.depth_pixpro.device import (build_runner, exit_with_launcher,
                                          setup_launch, stop_on_sigterm)
from projects.depth_pixpro.engine.hooks import (TrainingDivergedError,
                                                ensure_divergence_guard)
from projects.depth_pixpro.engine.interrupt import \
    train_with_interrupt_checkpoint
from projects.depth_pixpro.utils.work_dir_lock import (WorkDirLock,
                                                       WorkDirLockedError,
                                                       launch_rank)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='allow full unpickling (which can run code) of the checkpoint '
        'this run resumes or loads; only for a file you trust, e.g. one '
        'written by an older version. Never needed for this project\'s '
        'own checkpoints')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='accept a checkpoint that covers only part of the model '
        '(missing keys, other shapes); an error otherwise')
    parser.add_argument(
        '--amp', action='store_true', help='mixed precision (CUDA only)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the actual batch size (auto_scale_lr)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override config settings, key=value, e.g. '
        'model.backbone.depth=18 train_dataloader.batch_size=8')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Apply the command-line options to the config."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a CUDA device (mmengine '
                             'AmpOptimWrapper); run without --amp on CPU.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise SystemExit('--auto-scale-lr: the config has no '
                             'auto_scale_lr (base_batch_size) field')
        cfg.auto_scale_lr.enable = True
    return cfg


def resume_file(cfg):
    """The checkpoint a resumed run will load, or None."""
    if not cfg.get('resume', False):
        return None
    if cfg.get('load_from'):
        return cfg.load_from
    return checkpoint.latest_checkpoint(cfg.work_dir)


def main(argv=None):
    args = parse_args(argv)
    exit_with_launcher()
    cfg = load_config(args.config, args.cfg_options)
    cfg = merge_args(cfg, args)
    check_schedule(cfg)  # warns: a warm-up longer than the run, ...
    # one run per work dir; under a distributed launch rank 0 holds it
    lock = WorkDirLock(cfg.work_dir, log=lambda msg: print(msg, flush=True))
    with stop_on_sigterm():  # SIGTERM unwinds: lock released, workers end
        if launch_rank(args.launcher) == 0:
            try:
                lock.acquire()
            except WorkDirLockedError as err:
                raise SystemExit(f'error: {err}')
        try:
            train(cfg, args)
        finally:
            lock.release()


def train(cfg, args):
    """Resume checks, device adaptation, checkpoint hooks, then the run."""
    resume_from = resume_file(cfg)
    if cfg.get('resume', False):
        # The runner loads exactly the file checked here (None: no
        # checkpoint yet, the run starts from scratch).
        cfg.load_from = resume_from
        cfg.resume = resume_from is not None
    own_file = cfg.get('load_from')
    trusted = [own_file] if args.trust_checkpoint else []
    with checkpoint.trusted_checkpoints(trusted):
        try:
            if resume_from is not None:
                meta = checkpoint.check_resume_checkpoint(resume_from)
                checkpoint.check_resume_model(meta, cfg.model, resume_from)
            setup_launch(cfg, args.launcher)
            checkpoint.ensure_checkpoint_hooks(cfg, args.allow_partial_load)
            ensure_divergence_guard(cfg)
            runner = build_runner(cfg)
            train_with_interrupt_checkpoint(runner)  # Ctrl-C: save, resume
            # The runner and its loops hold each other: collect them now, so
            # that the DataLoader stops its workers as the run ends. Left to
            # interpreter exit, multiprocessing SIGTERMs the workers first
            # and torch prints each as a failed worker.
            del runner
            gc.collect()
        except TrainingDivergedError as err:
            raise SystemExit(f'error: {err}')
        except checkpoint.CheckpointLoadError as err:
            hint = ''
            if err.unsafe and err.filename == own_file and \
                    '--trust-checkpoint' not in str(err):
                hint = (' Only if you trust this file, rerun with '
                        '--trust-checkpoint.')
            if isinstance(err, checkpoint.CheckpointMismatchError):
                err = f'{own_file}: {err}'
            raise SystemExit(f'error: {err}{hint}')


if __name__ == '__main__':
    main()
