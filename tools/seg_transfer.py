"""Segmentation transfer of a pretraining checkpoint: fine-tune, test and
record the result.

    python tools/seg_transfer.py CONFIG CHECKPOINT [--nproc N]
        [--work-dir DIR] [--results PREFIX] [--show-dir DIR]
        [--cfg-options k=v ...]

Steps:

1. ``tools/train.py CONFIG`` with the backbone initialised from CHECKPOINT
   (``model.backbone.init_cfg``). CHECKPOINT may be the raw pretraining
   checkpoint (keys ``backbone.*``: loaded with ``prefix='backbone.'``), a
   file from ``tools/model_converters/depth_pixpro_to_mmseg.py`` or any bare
   ResNet state dict (loaded without prefix), an official PixPro checkpoint
   (``module.encoder.*``: converted into the work dir first), or ``none``
   (random init); the layout comes from
   ``projects.depth_pixpro.checkpoint.detect_layout``.
   ``--nproc N > 1`` launches ``torch.distributed.run`` (gloo on CPU).
2. ``tools/test.py CONFIG <last checkpoint of step 1>``.
3. Appends aAcc, mIoU, mAcc and per-class IoU (the config's evaluator must be
   ``PerClassIoUMetric`` for per-class values) with the config, checkpoint,
   iteration and git commit to ``PREFIX.csv`` and ``PREFIX.md``
   (default ``work_dirs/seg_transfer_results``).
"""
import argparse
import csv
import datetime
import glob
import os
import os.path as osp
import subprocess
from typing import Dict, List, Optional

from projects.depth_pixpro.checkpoint import (UnknownLayoutError,
                                              convert_to_mmseg,
                                              detect_layout,
                                              load_checkpoint_file,
                                              model_state_dict)
from projects.depth_pixpro.checkpoint.layout import MMLAB_PREFIX, PIXPRO
from projects.depth_pixpro.utils.scripts import (read_json_lines, repo_root,
                                                 tool_command)

REPO_ROOT = repo_root()

CSV_FIELDS = ('date', 'config', 'checkpoint', 'init', 'iters', 'aAcc', 'mIoU',
              'mAcc', 'per_class_iou', 'git_commit', 'work_dir')
RANDOM_INIT = ('none', 'random', 'scratch')


def backbone_init_options(checkpoint: str,
                          convert_dir: Optional[str] = None
                          ) -> Dict[str, object]:
    """``--cfg-options`` that initialise the backbone from ``checkpoint``.

    An official PixPro checkpoint (``module.encoder.*`` under ``model``),
    which mmseg's ``Pretrained`` init cannot read, is converted first with
    :func:`convert_to_mmseg` (what
    ``tools/model_converters/depth_pixpro_to_mmseg.py`` runs) into
    ``convert_dir`` (the run's work dir; the source is never touched).

    Args:
        checkpoint (str): Pretraining/converted checkpoint, or ``none``.
        convert_dir (str, optional): Where an official PixPro checkpoint is
            converted to. None: such a checkpoint is refused.

    Returns:
        dict: cfg key -> value, and ``init`` (a short label for the table).

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist.
        UnknownLayoutError: ``checkpoint`` holds no backbone weights that
            mmseg's ``Pretrained`` init can load as they are (an official
            PixPro checkpoint without ``convert_dir``).
    """
    if checkpoint.lower() in RANDOM_INIT:
        return {'model.backbone.init_cfg': None, 'init': 'random'}
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'pretrained checkpoint not found: {checkpoint} (pass "none" for '
            'random initialisation).')
    ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    layout = detect_layout(model_state_dict(ckpt, checkpoint), checkpoint)
    if layout.kind == PIXPRO and convert_dir is not None:
        return _convert_official_pixpro(checkpoint, convert_dir)
    if layout.prefix not in (MMLAB_PREFIX, ''):
        raise UnknownLayoutError(
            f'{checkpoint} is a {layout.kind} checkpoint (backbone keys '
            f'"{layout.prefix}*"): convert it first with '
            'tools/model_converters/depth_pixpro_to_mmseg.py.')
    raw = layout.prefix == MMLAB_PREFIX
    return {
        'model.backbone.init_cfg.type': 'Pretrained',
        'model.backbone.init_cfg.checkpoint': osp.abspath(checkpoint),
        'model.backbone.init_cfg.prefix': 'backbone.' if raw else None,
        'init': 'pretrain(raw)' if raw else 'pretrain(converted)',
    }


def _convert_official_pixpro(checkpoint: str,
                             convert_dir: str) -> Dict[str, object]:
    """Convert an official PixPro checkpoint into ``convert_dir`` and return
    the options that load the converted backbone (no prefix)."""
    name = osp.splitext(osp.basename(checkpoint))[0]
    converted = osp.join(osp.abspath(convert_dir), f'{name}_backbone.pth')
    summary = convert_to_mmseg(checkpoint, converted, force=True)
    print(f'{checkpoint} -> {converted}: the online backbone '
          f'({summary["num_keys"]} keys, ResNet-{summary["depth"]})',
          flush=True)
    return {
        'model.backbone.init_cfg.type': 'Pretrained',
        'model.backbone.init_cfg.checkpoint': converted,
        'model.backbone.init_cfg.prefix': None,
        'init': 'pretrain(official PixPro, converted)',
    }


def _format_options(options: Dict[str, object]) -> List[str]:
    """``k=v`` strings for ``--cfg-options``.

    Raises:
        ValueError: a value holds white space, which mmengine's
            ``DictAction`` silently deletes (a path would point elsewhere).
    """
    out = []
    for key, value in options.items():
        if key == 'init':
            continue
        if any(c.isspace() for c in str(value)):
            raise ValueError(
                f'{key}={value!r}: --cfg-options values lose their spaces in '
                'mmengine; use a checkpoint path / --work-dir without spaces')
        out.append(f'{key}={"None" if value is None else value}')
    return out


def _run(cmd: List[str]) -> None:
    print('+ ' + ' '.join(cmd), flush=True)
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=env)
    if result.returncode != 0:
        raise RuntimeError(f'command failed ({result.returncode}): '
                           f'{" ".join(cmd)}')


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint named in ``work_dir/last_checkpoint`` (mmengine)."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        raise FileNotFoundError(
            f'{marker} not found: training wrote no checkpoint (is the '
            'CheckpointHook interval larger than max_iters?).')
    with open(marker) as f:
        path = f.read().strip()
    return path if osp.isabs(path) else osp.join(work_dir, path)


def read_test_metrics(test_work_dir: str) -> Dict[str, float]:
    """Metrics of the newest test run under ``test_work_dir``.

    mmengine's LoggerHook writes them as a JSON line to
    ``<work_dir>/<timestamp>/<timestamp>.json``.
    """
    logs = sorted(glob.glob(osp.join(test_work_dir, '*', '*.json')))
    for log in reversed(logs):
        for record in reversed(read_json_lines(log)):
            if 'mIoU' in record:
                return record
    raise FileNotFoundError(
        f'no test metrics (mIoU) in {test_work_dir}/*/*.json')


def git_commit() -> str:
    """Short commit hash, ``-dirty`` if the tree has changes; ``unknown``."""
    try:
        commit = subprocess.check_output(
            ['git', 'rev-parse', '--short', 'HEAD'],
            cwd=REPO_ROOT,
            stderr=subprocess.DEVNULL).decode().strip()
        dirty = subprocess.check_output(
            ['git', 'status', '--porcelain', '--untracked-files=no'],
            cwd=REPO_ROOT,
            stderr=subprocess.DEVNULL).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    return commit + ('-dirty' if dirty else '')


def results_row(metrics: Dict[str, float], config: str, checkpoint: str,
                init: str, iters: str, work_dir: str) -> Dict[str, str]:
    """One table row from the test metrics."""
    per_class = ';'.join(f'{k[4:]}={v}' for k, v in metrics.items()
                         if k.startswith('IoU.'))
    return dict(
        date=datetime.datetime.now().strftime('%Y-%m-%d %H:%M'),
        config=osp.relpath(config, REPO_ROOT)
        if osp.isabs(config) else config,
        checkpoint=checkpoint,
        init=init,
        iters=str(iters),
        aAcc=str(metrics.get('aAcc', '')),
        mIoU=str(metrics.get('mIoU', '')),
        mAcc=str(metrics.get('mAcc', '')),
        per_class_iou=per_class,
        git_commit=git_commit(),
        work_dir=work_dir)


def append_results(row: Dict[str, str], prefix: str) -> List[str]:
    """Append ``row`` to ``prefix.csv`` and ``prefix.md`` (headers once).

    Returns:
        list[str]: The two file paths.
    """
    if osp.dirname(prefix):
        os.makedirs(osp.dirname(prefix), exist_ok=True)
    csv_path, md_path = prefix + '.csv', prefix + '.md'
    new_csv = not osp.isfile(csv_path)
    with open(csv_path, 'a', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        if new_csv:
            writer.writeheader()
        writer.writerow({k: row.get(k, '') for k in CSV_FIELDS})
    if not osp.isfile(md_path):
        with open(md_path, 'w') as f:
            f.write('| ' + ' | '.join(CSV_FIELDS) + ' |\n')
            f.write('|' + '---|' * len(CSV_FIELDS) + '\n')
    with open(md_path, 'a') as f:
        cells = [
            str(row.get(k, '')).replace('|', '/').replace(';', '; ')
            for k in CSV_FIELDS
        ]
        f.write('| ' + ' | '.join(cells) + ' |\n')
    return [csv_path, md_path]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Fine-tune and test a segmentation config from a '
        'pretraining checkpoint, then append the result to a CSV/markdown '
        'table.')
    parser.add_argument('config', help='an mmseg config, e.g. '
                        'configs/segmentation/*.py')
    parser.add_argument(
        'checkpoint', help='pretraining or converted checkpoint, or "none"')
    parser.add_argument('--nproc', type=int, default=1, help='processes')
    parser.add_argument('--work-dir', help='default: work_dirs/seg_transfer/'
                        '<config>_<checkpoint>')
    parser.add_argument(
        '--results',
        default=osp.join('work_dirs', 'seg_transfer_results'),
        help='results table path without extension (.csv and .md)')
    parser.add_argument('--show-dir', help='write colour overlays here')
    parser.add_argument(
        '--skip-train',
        action='store_true',
        help='only test the last checkpoint already in the work dir')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='extra key=value overrides for both train and test')
    return parser.parse_args(argv)


def main(argv=None) -> Dict[str, str]:
    args = parse_args(argv)
    config = osp.abspath(args.config)
    if not osp.isfile(config):
        raise SystemExit(f'config not found: {args.config}')
    name = osp.splitext(osp.basename(config))[0]
    ckpt_name = osp.splitext(osp.basename(args.checkpoint))[0]
    work_dir = osp.abspath(args.work_dir or osp.join(
        REPO_ROOT, 'work_dirs', 'seg_transfer', f'{name}_{ckpt_name}'))
    init = backbone_init_options(args.checkpoint, convert_dir=work_dir)

    if not args.skip_train:
        _run(tool_command('train.py', args.nproc) + [
            config, '--work-dir', work_dir, '--cfg-options',
            *_format_options(init), *args.cfg_options
        ])
    final = last_checkpoint(work_dir)
    test_dir = osp.join(work_dir, 'test')
    test_cmd = tool_command('test.py', args.nproc) + [
        config, final, '--work-dir', test_dir
    ]
    if args.show_dir:
        test_cmd += ['--show-dir', osp.abspath(args.show_dir)]
    # The test loads the whole fine-tuned model: no backbone init needed.
    _run(test_cmd +
         ['--cfg-options', 'model.backbone.init_cfg=None', *args.cfg_options])
    metrics = read_test_metrics(test_dir)
    iters = osp.splitext(osp.basename(final))[0].replace('iter_', '')
    row = results_row(metrics, args.config, args.checkpoint, init['init'],
                      iters, work_dir)
    paths = append_results(row, osp.abspath(args.results))
    print(f'{name}: mIoU {row["mIoU"]} mAcc {row["mAcc"]} aAcc {row["aAcc"]}'
          f' -> {", ".join(paths)}')
    return row


if __name__ == '__main__':
    main()
