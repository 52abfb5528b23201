"""What the scripts share (projects/depth_pixpro/utils/scripts.py):
repository root and commands, free port, thread environment,
``scalars.json`` sessions, a checkpoint's config read as literals, and no
script edits ``sys.path``."""
import os
import os.path as osp
import socket
import sys

import pytest
from mmengine.config import Config

from helpers import REPO_ROOT, write_scalars
from projects.depth_pixpro.utils import scripts


# --------------------------------------------------------------------------
# projects/depth_pixpro/utils/scripts.py
# --------------------------------------------------------------------------
def test_repo_root_and_tool_commands():
    assert scripts.repo_root() == REPO_ROOT
    train = osp.join(REPO_ROOT, 'tools', 'train.py')
    assert scripts.tool_command('train.py') == [sys.executable, train]
    assert scripts.tool_command('train.py', nproc=1, distributed=False) == [
        sys.executable, train]
    for nproc, distributed in ((2, None), (1, True)):
        cmd = scripts.tool_command('test.py', nproc, distributed)
        port = [a for a in cmd if a.startswith('--master_port=')]
        assert cmd == [
            sys.executable, '-m', 'torch.distributed.run',
            f'--nproc_per_node={nproc}', port[0],
            osp.join(REPO_ROOT, 'tools', 'test.py'), '--launcher', 'pytorch']
        assert 0 < int(port[0].split('=')[1]) < 65536


def test_free_port_can_be_bound():
    port = scripts.free_port()
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', port))  # raises if the port were taken


def test_thread_env_sets_every_pool_and_copies():
    base = dict(PATH='/bin', OMP_NUM_THREADS='8')
    env = scripts.thread_env(3, base)
    assert env == dict(PATH='/bin', OMP_NUM_THREADS='3',
                       MKL_NUM_THREADS='3', OPENBLAS_NUM_THREADS='3')
    assert base['OMP_NUM_THREADS'] == '8'  # the input is not modified


def test_read_scalars_sessions_and_bad_lines(tmp_path):
    work = str(tmp_path)
    assert scripts.read_scalars(work) == []
    write_scalars(work, [dict(iter=1), dict(iter=2)], '20260102_000000')
    write_scalars(work, [dict(iter=0)], '20260101_000000')  # older session
    assert scripts.read_scalars(work) == [
        dict(iter=0), dict(iter=1), dict(iter=2)]
    assert scripts.read_scalars(work, newest_only=True) == [
        dict(iter=1), dict(iter=2)]
    bad = tmp_path / 'bad.json'
    bad.write_text('{"a": 1}\n\n{broken\n')
    with pytest.raises(ValueError, match=r'bad.json:3 is not JSON'):
        scripts.read_json_lines(str(bad))
    bad.write_text('{"a": 1}\n\n')
    assert scripts.read_json_lines(str(bad)) == [dict(a=1)]


def test_literal_config_reads_literals_and_never_executes(tmp_path):
    text = ("a = dict(b=[1, 2.5, (3, 'x')], c=None, d={'k': True})\n"
            'neg = -1e-05\n')
    assert scripts.literal_config(text) == dict(
        a=dict(b=[1, 2.5, (3, 'x')], c=None, d=dict(k=True)), neg=-1e-05)
    marker = tmp_path / 'executed'
    for hostile in (f"model = __import__('os').system('touch {marker}')",
                    'import os', 'x = y', 'x = dict(**other)',
                    'x = [i for i in range(3)]', 'x = dict(a=len([]))',
                    'x.y = 1', 'print(1)', 'x = (', 'a = b = 1'):
        with pytest.raises(ValueError):
            scripts.literal_config(hostile)
    assert not marker.exists()
    # what mmengine stores in a checkpoint (pretty_text) reads back whole
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'depth_pixpro_synthetic.py'))
    read = Config(scripts.literal_config(cfg.pretty_text))
    assert read.model == cfg.model
    assert read.train_dataloader == cfg.train_dataloader


def test_no_script_edits_sys_path():
    # pip install -e . installs the package; the mutation tester points its
    # workers at their private copies through PYTHONPATH
    offenders = []
    for folder in ('tools', 'benchmarks'):
        for root, _, files in os.walk(osp.join(REPO_ROOT, folder)):
            for name in files:
                path = osp.relpath(osp.join(root, name), REPO_ROOT)
                if name.endswith('.py'):
                    with open(osp.join(REPO_ROOT, path)) as f:
                        if 'sys.path' in f.read():
                            offenders.append(path)
    assert offenders == []
