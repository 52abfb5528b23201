"""Shared pytest fixtures."""
import os
import os.path as osp
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import projects.depth_pixpro  # noqa: E402,F401  (registers everything)

# Real NYUv2 frames shipped beside the repo (never copied into git).
NYUV2_MINI = os.environ.get(
    'NYUV2_MINI', osp.join(REPO_ROOT, '..', 'shared', 'data', 'nyuv2_mini'))


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


@pytest.fixture
def nyuv2_mini():
    """Path of ../shared/data/nyuv2_mini (see :func:`require_path`)."""
    return require_path(NYUV2_MINI, 'nyuv2_mini fixture')


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """Tests that build a Runner or call init_default_scope set mmengine's
    global default scope; restore it so that test order does not matter."""
    from mmengine.registry import DefaultScope
    saved = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
