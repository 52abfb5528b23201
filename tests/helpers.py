"""Paths and small utilities shared by the tests (``tests/`` is on
``sys.path``: pytest puts the folder of ``conftest.py`` there)."""
import importlib.util
import json
import os
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Real NYUv2 frames shipped beside the repository (never copied into git).
NYUV2_MINI = os.environ.get(
    'NYUV2_MINI', osp.join(REPO_ROOT, '..', 'shared', 'data', 'nyuv2_mini'))
#: The CPU demo config (README quick start).
SYNTHETIC_CFG = osp.join(REPO_ROOT, 'configs', 'depth_pixpro_synthetic.py')


def in_ci() -> bool:
    """Whether the tests run under CI (``CI=true``, as CI services set)."""
    return os.environ.get('CI', '').strip().lower() in ('1', 'true', 'yes')


def require_path(path: str, what: str) -> str:
    """Absolute ``path``; a missing one skips locally but FAILS under CI,
    where every fixture must be present (a silent skip hides a broken run).
    """
    if not osp.exists(path):
        message = f'{what} not found at {path}'
        if in_ci():
            pytest.fail(f'{message} (CI=true: missing fixtures fail)')
        pytest.skip(message)
    return osp.abspath(path)


def load_script(rel_path: str, name: str = None):
    """Import a script of the repository (``tools/x.py``, ...) as a module.

    Args:
        rel_path (str): Path relative to the repository root.
        name (str, optional): Module name. Defaults to the file's stem.
    """
    path = osp.join(REPO_ROOT, rel_path)
    name = name or osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def repo_env(**extra) -> dict:
    """Environment of a subprocess that runs a script of this checkout
    (the repository first on ``PYTHONPATH``, one OpenMP thread)."""
    path = os.pathsep.join(
        p for p in (REPO_ROOT, os.environ.get('PYTHONPATH')) if p)
    return dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=path, **extra)


def process_running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux /proc)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def write_tiny_config(path, base: str = 'depth_pixpro_synthetic.py',
                      max_iters: int = 1, batch_size: int = 2,
                      num_samples: int = 4, num_workers: int = 0,
                      checkpoint: dict = None, extra: str = '') -> str:
    """Write a pretraining config of ``configs/<base>`` shrunk for a test
    run: ResNet-18 of base width 16 on 64x64 images, constant lr, no custom
    hooks, logs every iteration, a checkpoint every iteration unless
    ``checkpoint`` (``default_hooks.checkpoint``) says otherwise; ``extra``
    config text is appended.

    Returns:
        str: ``path``.
    """
    checkpoint = dict(interval=1) if checkpoint is None else checkpoint
    with open(path, 'w') as f:
        f.write(f"""_base_ = [{osp.join(REPO_ROOT, 'configs', base)!r}]
train_dataloader = dict(
    batch_size={batch_size}, num_workers={num_workers},
    persistent_workers={num_workers > 0},
    dataset=dict(num_samples={num_samples}, img_size=64))
model = dict(backbone=dict(base_channels=16, stem_channels=16),
             neck=dict(in_channels=[128], hid_channels=16, out_channels=8),
             head=dict(in_channels=8))
param_scheduler = []
train_cfg = dict(max_iters={max_iters})
custom_hooks = []
default_hooks = dict(logger=dict(interval=1), checkpoint={checkpoint!r})
""" + extra)
    return str(path)


def tiny_depth_anything(folder, keep_aspect_ratio: bool = False,
                        **depth_kwargs) -> str:
    """Save a random-init Depth Anything (data-formats.md, section 5) with
    a 56x56 processor in ``folder`` (``keep_aspect_ratio=True`` as the
    published ones: images of two shapes cannot share a batch).

    Returns:
        str: ``folder``.
    """
    import torch
    import transformers
    torch.manual_seed(0)
    backbone = transformers.Dinov2Config(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
        intermediate_size=64, patch_size=14, image_size=56,
        out_features=['stage1', 'stage2', 'stage3', 'stage4'],
        reshape_hidden_states=False)
    config = transformers.DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=32,
        neck_hidden_sizes=[16] * 4, fusion_hidden_size=16,
        head_hidden_size=16, **depth_kwargs)
    transformers.DepthAnythingForDepthEstimation(config).save_pretrained(
        folder)
    transformers.DPTImageProcessor(
        size={'height': 56, 'width': 56}, ensure_multiple_of=14,
        keep_aspect_ratio=keep_aspect_ratio).save_pretrained(folder)
    return str(folder)


def write_scalars(work_dir: str, records, stamp: str = '20260101_000000'):
    """An mmengine session's ``<stamp>/vis_data/scalars.json``."""
    log_dir = osp.join(work_dir, stamp, 'vis_data')
    os.makedirs(log_dir, exist_ok=True)
    with open(osp.join(log_dir, 'scalars.json'), 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def read_png(path: str):
    """A written PNG (non-empty, decodable) as an array."""
    import cv2
    assert osp.getsize(path) > 0
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert img is not None
    return img
