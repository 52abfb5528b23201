"""tools/train.py, tools/test.py and tools/dist_train.sh on tiny configs,
including hostile checkpoints, kills while saving and partial loads."""
import glob
import importlib.util
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from helpers import REPO_ROOT, process_running
from projects.depth_pixpro.checkpoint import (CheckpointMismatchError,
                                              ensure_checkpoint_hooks)
from projects.depth_pixpro.utils.scripts import free_port


# end-to-end runs of the tools (seconds to minutes each)
pytestmark = pytest.mark.slow


TINY_PRETRAIN = """
_base_ = [r'{repo}/configs/depth_pixpro_synthetic.py']
custom_imports = dict(imports={imports}, allow_failed_imports=False)
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(num_samples=16, img_size=64))
train_cfg = dict(max_iters=2)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=2, max_keep_ckpts=5))
custom_hooks = {hooks}
"""

PROBE_HOOK = '''
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class ParamProbeHook(Hook):
    """Dump this rank's backbone parameters and loss after each iteration."""

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = getattr(runner.model, 'module', runner.model)
        params = torch.cat(
            [p.detach().flatten() for p in model.backbone.parameters()])
        torch.save(
            dict(world=runner.world_size, loss=float(outputs['loss']),
                 params=params),
            f'{runner.work_dir}/probe_rank{runner.rank}_iter{runner.iter}.pt')
'''


def _write_tiny_config(tmp_path, imports=('projects.depth_pixpro', ),
                       hooks=()):
    path = tmp_path / 'tiny_pretrain.py'
    path.write_text(
        TINY_PRETRAIN.format(
            repo=REPO_ROOT,
            imports=list(imports),
            hooks=list(hooks)))
    return str(path)


def _run(args, env=None, timeout=600):
    env = dict(os.environ, **(env or {}))
    env.setdefault('OMP_NUM_THREADS', '1')
    proc = subprocess.run(
        args, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope='module')
def trained_run(tmp_path_factory):
    """Two iterations of the tiny pretraining config through tools/train.py
    (a config without SafeCheckpointHook: train.py sets it up), saving
    iter_1.pth and iter_2.pth."""
    tmp_path = tmp_path_factory.mktemp('train')
    config = _write_tiny_config(tmp_path)
    work_dir = str(tmp_path / 'work')
    output = _run([
        sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
        '--cfg-options', 'default_hooks.checkpoint.interval=1'
    ])
    return config, work_dir, output


def test_train_writes_weights_only_loadable_checkpoint(trained_run):
    config, work_dir, output = trained_run
    assert 'Iter(train) [2/2]' in output and 'loss_s0' in output
    ckpt_path = osp.join(work_dir, 'iter_2.pth')
    # SafeCheckpointHook: no pickled Python objects, plain torch.load works.
    ckpt = torch.load(ckpt_path, weights_only=True)
    assert ckpt['meta']['iter'] == 2
    # exactly the weights of the config's model (online, target, head)
    from mmpretrain.registry import MODELS
    model = MODELS.build(Config.fromfile(config).model)
    assert {k: tuple(v.shape) for k, v in ckpt['state_dict'].items()} == \
        {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ckpt['optimizer']['state'], 'SGD momentum buffers were saved'


def test_resume_restores_iteration_and_optimizer_state(trained_run):
    config, work_dir, _ = trained_run
    ckpt = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=True)
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.resume = True
    cfg.load_from = None  # `--resume` without a path: latest checkpoint
    ensure_checkpoint_hooks(cfg)  # as tools/train.py does
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    assert runner.iter == 2
    restored = runner.optim_wrapper.state_dict()['state']
    saved = ckpt['optimizer']['state']
    assert restored.keys() == saved.keys()
    for key in saved:
        assert torch.equal(restored[key]['momentum_buffer'],
                           saved[key]['momentum_buffer'])
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 2


KILL_WHILE_SAVING = '''
"""Imported by a config: SIGKILL this process in the middle of writing the
bytes of iter_2.pth (or of a temporary file for it), as a real kill would."""
import builtins
import os
import signal

_open = builtins.open


class _HalfWriter:

    def __init__(self, f):
        self._f = f

    def write(self, data):
        self._f.write(data[:len(data) // 2])
        self._f.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def _open_and_kill(file, mode='r', *args, **kwargs):
    f = _open(file, mode, *args, **kwargs)
    name = os.path.basename(str(file)).lstrip('.')
    if 'w' in mode and 'b' in mode and name.startswith('iter_2.pth'):
        return _HalfWriter(f)
    return f


builtins.open = _open_and_kill
'''


def test_kill_while_saving_keeps_checkpoints_and_resume_continues(
        trained_run, tmp_path):
    """`--resume` an older checkpoint by path (weights-only), get SIGKILLed
    while rewriting iter_2.pth: the complete iter_2.pth and last_checkpoint
    survive and resuming continues from them."""
    config, work_dir, _ = trained_run
    work = tmp_path / 'work'
    shutil.copytree(work_dir, work)
    (work / 'last_checkpoint').write_text(str(work / 'iter_2.pth'))
    before = (work / 'iter_2.pth').read_bytes()
    (tmp_path / 'kill_while_saving.py').write_text(KILL_WHILE_SAVING)
    killer = _write_tiny_config(
        tmp_path, imports=('projects.depth_pixpro', 'kill_while_saving'))
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', killer, '--work-dir', str(work),
         '--resume', str(work / 'iter_1.pth')],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == -signal.SIGKILL, output[-3000:]
    assert 'resumed epoch: 0, iter: 1' in output  # the OLDER file, by path
    assert (work / 'iter_2.pth').read_bytes() == before
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_2.pth')
    assert len(list(work.glob('.iter_2.pth.*.tmp'))) == 1  # the killed write
    # `tools/train.py --resume` (no path) continues from the intact
    # iter_2.pth: only iter_3.pth is written (from scratch, iter_2.pth would
    # be rewritten too).
    _train_main()([config, '--work-dir', str(work), '--resume',
                   '--cfg-options', 'train_cfg.max_iters=3'])
    assert (work / 'iter_2.pth').read_bytes() == before
    ckpt = torch.load(work / 'iter_3.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 3
    assert (work / 'last_checkpoint').read_text().endswith('iter_3.pth')
    assert not list(work.glob('.*.tmp'))  # the killed save's temp removed


def test_resume_falls_back_when_last_checkpoint_is_empty(trained_run,
                                                         tmp_path):
    """A kill while mmengine writes `last_checkpoint` leaves it empty."""
    from projects.depth_pixpro.checkpoint import latest_checkpoint
    _, work_dir, _ = trained_run
    work = tmp_path / 'work'
    shutil.copytree(work_dir, work)
    (work / 'last_checkpoint').write_text('')
    assert latest_checkpoint(str(work)) == str(work / 'iter_2.pth')
    (work / 'last_checkpoint').write_text(str(work / 'gone.pth'))
    assert latest_checkpoint(str(work)) == str(work / 'iter_2.pth')
    os.remove(work / 'last_checkpoint')
    assert latest_checkpoint(str(work)) == str(work / 'iter_2.pth')
    assert latest_checkpoint(str(tmp_path / 'empty')) is None


def _train_main():
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(REPO_ROOT, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


class _Exploit:
    """Pickles as a call to os.system: what a tampered checkpoint carries."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.mark.parametrize('route', ['--resume FILE', 'cfg-options',
                                   'last_checkpoint'])
def test_resume_refuses_pickled_payload(trained_run, tmp_path, route):
    config, _, _ = trained_run
    marker = tmp_path / 'pwned'
    payload = tmp_path / 'outside' / 'payload.pth'
    payload.parent.mkdir()
    torch.save({'state_dict': {}, 'meta': _Exploit(marker)}, payload)
    work = tmp_path / 'work'
    work.mkdir()
    argv = [config, '--work-dir', str(work)]
    if route == '--resume FILE':
        argv += ['--resume', str(payload)]
    elif route == 'cfg-options':
        argv += ['--cfg-options', 'resume=True', f'load_from={payload}']
    else:  # last_checkpoint pointing outside the work dir
        (work / 'last_checkpoint').write_text(str(payload))
        argv += ['--resume']
    with pytest.raises(SystemExit) as err:
        _train_main()(argv)
    message = str(err.value)
    assert str(payload) in message and '--trust-checkpoint' in message
    assert 'refusing' in message
    assert not marker.exists()
    # The explicit opt-in really unpickles (the payload runs) ...
    with pytest.raises(SystemExit, match='no training state'):
        _train_main()(argv + ['--trust-checkpoint'])
    assert marker.exists()


def test_resume_without_meta_is_a_clear_error(trained_run, tmp_path):
    config, work_dir, _ = trained_run
    weights = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=True)
    bare = tmp_path / 'weights.pth'
    torch.save({'state_dict': weights['state_dict']}, bare)
    with pytest.raises(SystemExit) as err:
        _train_main()([config, '--work-dir', str(tmp_path / 'w'),
                       '--resume', str(bare)])
    assert str(bare) in str(err.value)
    assert 'no training state' in str(err.value)
    assert f'load_from={bare}' in str(err.value)


def test_cfg_options_type_error_names_the_key(trained_run, tmp_path):
    config, _, _ = trained_run
    with pytest.raises(SystemExit, match='model.base_momentum=abc'):
        _train_main()([config, '--work-dir', str(tmp_path), '--cfg-options',
                       'model.base_momentum=abc'])


def _bad_shape_checkpoint(work_dir, path):
    """iter_2.pth with one backbone weight of another shape."""
    ckpt = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=True)
    ckpt['state_dict']['backbone.conv1.weight'] = torch.zeros(8, 3, 7, 7)
    torch.save(ckpt, path)
    return ckpt


def _runner(config, work_dir, load_from, resume, allow_partial_load=False):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.load_from = str(load_from)
    cfg.resume = resume
    ensure_checkpoint_hooks(cfg, allow_partial_load)
    return Runner.from_cfg(cfg)


@pytest.mark.parametrize('resume', [False, True])
def test_wrong_shapes_are_an_error_unless_partial_load_allowed(
        trained_run, tmp_path, resume):
    config, work_dir, _ = trained_run
    bad = tmp_path / 'bad.pth'
    ckpt = _bad_shape_checkpoint(work_dir, bad)
    runner = _runner(config, tmp_path / 'a', bad, resume)
    total = len(runner.model.state_dict())
    with pytest.raises(CheckpointMismatchError) as err:
        runner.load_or_resume()
    assert f'{total - 1} of {total} model weights matched' in str(err.value)
    assert 'backbone.conv1.weight: [8, 3, 7, 7] in the file' in str(err.value)
    assert '--allow-partial-load' in str(err.value)
    runner = _runner(config, tmp_path / 'b', bad, resume,
                     allow_partial_load=True)
    runner.load_or_resume()  # allowed: the matching weights are loaded
    assert torch.equal(runner.model.state_dict()['backbone.layer1.0.conv1.weight'],
                       ckpt['state_dict']['backbone.layer1.0.conv1.weight'])
    assert runner.iter == (2 if resume else 0)


def test_resume_never_executes_config_text_from_the_file(
        trained_run, tmp_path):
    """mmengine's Runner.resume runs meta['config'] through Config.fromstring
    (Python code); the hook drops it first."""
    config, work_dir, _ = trained_run
    marker = tmp_path / 'config_ran'
    ckpt_path = tmp_path / 'with_config.pth'
    ckpt = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=True)
    # mmengine executes this text (verified: it creates the marker)
    ckpt['meta']['config'] = (
        f'x = __import__("os").system("touch {marker}")\ngpu_ids = [0]\n')
    torch.save(ckpt, ckpt_path)
    runner = _runner(config, tmp_path / 'a', ckpt_path, resume=True)
    runner.load_or_resume()
    assert runner.iter == 2
    assert not marker.exists()


def test_amp_flag_on_cpu_fails_clearly(trained_run):
    if torch.cuda.is_available():
        pytest.skip('CUDA present')
    config, _, _ = trained_run
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--amp'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and '--amp needs a CUDA device' in proc.stderr


def test_test_py_refuses_pretraining_config_clearly(trained_run):
    config, work_dir, _ = trained_run
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', config,
         osp.join(work_dir, 'iter_2.pth')],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'has no test_dataloader' in proc.stderr


def test_segmentation_train_then_test_py_evaluates(tmp_path):
    """tools/train.py then tools/test.py on the CPU synthetic benchmark."""
    config = osp.join(REPO_ROOT, 'configs', 'segmentation',
                      'fcn_r18_synthetic_cpu.py')
    work_dir = str(tmp_path / 'seg')
    tiny = [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.batch_size=2',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'model.backbone.init_cfg=None',
    ]
    _run([
        sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
        '--cfg-options'
    ] + tiny)
    ckpt = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)
    out_dir = str(tmp_path / 'pred')
    output = _run([
        sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
        str(tmp_path / 'test'), '--out', out_dir, '--cfg-options'
    ] + tiny)
    assert 'mIoU' in output
    assert glob.glob(osp.join(out_dir, '*.png')), 'predictions were saved'


def test_dist_train_two_cpu_processes_stay_in_sync(tmp_path):
    (tmp_path / 'probe_hook.py').write_text(PROBE_HOOK)
    config = _write_tiny_config(
        tmp_path,
        imports=('projects.depth_pixpro', 'probe_hook'),
        hooks=(dict(type='ParamProbeHook'), ))
    work_dir = tmp_path / 'dist run'  # a space: the script quotes arguments
    env = dict(
        # the script calls `python`: the interpreter running the tests
        PATH=f'{osp.dirname(sys.executable)}{os.pathsep}{os.environ["PATH"]}',
        PYTHONPATH=f'{tmp_path}{os.pathsep}{os.environ.get("PYTHONPATH", "")}',
        PORT=str(free_port()))
    _run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
          str(work_dir)], env=env)
    probes = {(rank, it): torch.load(
        work_dir / f'probe_rank{rank}_iter{it}.pt', weights_only=True)
              for rank in (0, 1) for it in (0, 1)}
    assert all(p['world'] == 2 for p in probes.values())
    for it in (0, 1):  # runner.iter counts from 0 in after_train_iter
        # each rank saw different images, yet the weights are identical
        assert probes[(0, it)]['loss'] != probes[(1, it)]['loss']
        assert torch.equal(probes[(0, it)]['params'],
                           probes[(1, it)]['params'])
    assert not torch.equal(probes[(0, 0)]['params'], probes[(0, 1)]['params'])
    checkpoints = sorted(p.name for p in work_dir.glob('*.pth'))
    assert checkpoints == ['iter_2.pth']


@pytest.mark.parametrize('script, args, message', [
    ('dist_train.sh', [], 'CONFIG and NPROC'),
    ('dist_train.sh', ['cfg.py'], 'CONFIG and NPROC'),
    ('dist_train.sh', ['cfg.py', 'two'], "NPROC must be a positive integer, "
     "got 'two'"),
    ('dist_train.sh', ['cfg.py', '0'], 'NPROC must be a positive integer'),
    ('dist_test.sh', ['cfg.py', 'x.pth'], 'CONFIG, CHECKPOINT and NPROC'),
    ('dist_test.sh', ['cfg.py', 'x.pth', '2x'], 'NPROC must be a positive'),
    ('slurm_train.sh', ['part', 'job', 'cfg.py'], 'WORK_DIR are required'),
    ('slurm_test.sh', ['part', 'job'], 'CHECKPOINT are required'),
])
def test_launch_scripts_check_arguments(script, args, message):
    proc = subprocess.run(['bash', f'tools/{script}'] + args, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f'usage: bash tools/{script} ')
    assert message in proc.stderr
    assert 'Traceback' not in proc.stderr  # stopped before python started


def test_launch_scripts_check_numeric_environment():
    env = dict(os.environ, PORT='29500 --evil')
    proc = subprocess.run(['bash', 'tools/dist_train.sh', 'cfg.py', '1'],
                          cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and 'PORT must be an integer' in proc.stderr
    env = dict(os.environ, GPUS='eight')
    proc = subprocess.run(['bash', 'tools/slurm_train.sh', 'p', 'j', 'c', 'w'],
                          cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and 'GPUS must be a positive' in proc.stderr


LAUNCHER = """
import subprocess, sys, time
# the package's device module, as tools/train.py imports it under torchrun
# (device.py alone no longer loads: it imports the package's utils)
worker = ("import sys, time\\n"
          "from projects.depth_pixpro import device\\n"
          "open(sys.argv[1], 'w').write(str(device.exit_with_launcher()))\\n"
          "time.sleep(300)\\n")
env = dict(__import__('os').environ, TORCHELASTIC_RUN_ID='test')
under = subprocess.Popen([sys.executable, '-c', worker, sys.argv[1]], env=env)
env.pop('TORCHELASTIC_RUN_ID')
plain = subprocess.Popen([sys.executable, '-c', worker, sys.argv[2]], env=env)
print(under.pid, plain.pid, flush=True)
time.sleep(300)
"""


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='prctl')
def test_torchrun_workers_exit_when_the_launcher_is_killed(tmp_path):
    """A SIGKILLed launcher: its torchrun workers stop, a plain run (no
    TORCHELASTIC_RUN_ID, e.g. under nohup) is left alone."""
    ready = [tmp_path / 'under_torchrun', tmp_path / 'plain']
    launcher = subprocess.Popen(
        [sys.executable, '-c', LAUNCHER] + [str(r) for r in ready],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in launcher.stdout.readline().split()]
    try:
        deadline = time.time() + 120
        while not all(r.exists() and r.read_text() for r in ready):
            assert time.time() < deadline, 'workers did not start'
            time.sleep(0.2)
        assert [r.read_text() for r in ready] == ['True', 'False']
        launcher.kill()
        launcher.wait()
        deadline = time.time() + 20
        while process_running(pids[0]) and time.time() < deadline:
            time.sleep(0.1)
        assert not process_running(pids[0]), \
            'the torchrun worker outlived its launcher'
        assert process_running(pids[1])
    finally:
        launcher.kill()
        for pid in pids:
            if process_running(pid):
                os.kill(pid, signal.SIGKILL)


def test_test_py_refuses_a_checkpoint_that_does_not_fit(tmp_path):
    """No metric for weights that were never loaded."""
    config = osp.join(REPO_ROOT, 'configs', 'segmentation',
                      'fcn_r18_synthetic_cpu.py')
    unrelated = tmp_path / 'unrelated.pth'
    torch.save({'state_dict': {'classifier.weight': torch.zeros(10, 4)}},
               unrelated)
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', config, str(unrelated),
         '--work-dir', str(tmp_path / 'test'), '--cfg-options',
         'test_dataloader.num_workers=0',
         'test_dataloader.persistent_workers=False',
         'model.backbone.init_cfg=None'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode != 0
    assert str(unrelated) in proc.stderr
    assert ' 0 of ' in proc.stderr and 'model weights matched' in proc.stderr
    assert '1 unexpected (e.g. classifier.weight)' in proc.stderr
    assert 'Iter(test)' not in proc.stdout + proc.stderr  # never evaluated
