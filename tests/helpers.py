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
