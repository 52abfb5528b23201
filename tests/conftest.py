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


@pytest.fixture
def nyuv2_mini():
    """Path of ../shared/data/nyuv2_mini; skips if it is not there."""
    if not osp.isdir(NYUV2_MINI):
        pytest.skip(f'nyuv2_mini fixture not found at {NYUV2_MINI}')
    return osp.abspath(NYUV2_MINI)


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """Tests that build a Runner or call init_default_scope set mmengine's
    global default scope; restore it so that test order does not matter."""
    from mmengine.registry import DefaultScope
    saved = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
