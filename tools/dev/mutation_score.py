"""Mutation score of the core modules: do the fast tests catch small bugs?

Mutants come from mutmut's mutation operators (``pip install -e .[dev]``:
mutmut 2.5.1; ``mutmut.list_mutations`` / ``mutmut.mutate``: flipped
comparisons and operators, changed numbers, strings, keywords, removed
arguments...). This script runs them itself because mutmut's own runner
edits the working tree in place, starts one Python per mutant and has no
sampling or per-module report. Here every worker gets a private copy of the
repository, imports torch & OpenMMLab once, and forks one pytest run per
mutant (``-x``: the first failing test kills it).

Usage::

    python tools/dev/mutation_score.py --quick          # a sample, < 10 min
    python tools/dev/mutation_score.py                  # every mutant
    python tools/dev/mutation_score.py --groups models --workers 2 \\
        --json work_dirs/mutation.json

A mutant is *killed* when the tests fail, *survived* when they pass and
*timeout* when they run over ``--timeout-factor`` x the clean run (counted
apart: an infinite loop is caught, but not by an assertion). The report
lists killed / survived / timeout per module and every survivor (file,
line, mutated line), to be judged equivalent or missing test.
"""
import argparse
import fnmatch
import json
import os
import os.path as osp
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: Group -> (source globs, the test folders (or files) that mirror them).
#: Their tests marked ``slow`` (training runs, tools end to end) are left
#: out. The crop-box geometry (``coord.py``) is written by the views and
#: read by the models: both folders test it.
GROUPS = OrderedDict(
    models=(['projects/depth_pixpro/models/**/*.py',
             'projects/depth_pixpro/coord.py'],
            ['tests/test_models', 'tests/test_coord.py',
             'tests/test_datasets/test_transforms']),
    views=(['projects/depth_pixpro/datasets/transforms/rgbd_views.py'],
           ['tests/test_datasets/test_transforms']),
    depth_loader=(['projects/depth_pixpro/datasets/transforms/'
                   'depth_loading.py'],
                  ['tests/test_datasets/test_transforms']),
    converter=(['projects/depth_pixpro/checkpoint/conversion.py',
                'tools/model_converters/depth_pixpro_to_mmseg.py'],
               ['tests/test_checkpoint']),
)
#: pytest arguments that select the fast tests of a folder.
FAST = ('-m', 'not slow')
#: Mutants sampled per group by --quick: 10 min on 2 free cores (a killed
#: mutant costs ~2 s, a survivor the whole group's tests, up to ~30 s).
QUICK_SAMPLE = dict(models=40, views=16, depth_loader=12, converter=8)
#: Survivors that only wrap a message string in 'XX' (error, help, repr
#: text) are reported apart: no test pins wording, by design.
MESSAGE_MARKERS = ('raise ', 'help=', 'repr_str', 'print_log(', 'warn(',
                   'description=', 'print(')
#: Heavy third-party imports done once per worker, before forking.
PRELOAD = ('numpy', 'torch', 'torchvision', 'cv2', 'mmengine', 'mmcv',
           'mmpretrain', 'mmseg', 'pytest')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='sample QUICK_SAMPLE mutants per group')
    parser.add_argument('--sample', type=int, default=None,
                        help='mutants sampled per group (overrides --quick)')
    parser.add_argument('--seed', type=int, default=0,
                        help='sampling seed (fixed: runs are comparable)')
    parser.add_argument('--groups', nargs='+', choices=list(GROUPS),
                        default=list(GROUPS))
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--timeout-factor', type=float, default=3.,
                        help='timeout = factor x clean test time + 10 s')
    parser.add_argument('--rev', default=None,
                        help='mutate this git revision (git archive) '
                        'instead of the working tree')
    parser.add_argument('--exclude-tests', nargs='+', default=[],
                        help='test files of the group\'s folder left out '
                        '(e.g. failing for a reason outside the mutated '
                        'code)')
    parser.add_argument('--json', default=None, help='write results here')
    parser.add_argument('--list', action='store_true',
                        help='only count the mutants per module')
    parser.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------- mutants
def group_sources(root, group):
    """Source files of a group, relative to ``root``, sorted."""
    globs, _ = GROUPS[group]
    found = set()
    for pattern in globs:
        if '*' not in pattern:
            if osp.isfile(osp.join(root, pattern)):
                found.add(pattern)
            continue
        base = pattern.split('*')[0].rstrip('/')
        for dirpath, _, files in os.walk(osp.join(root, base)):
            for name in files:
                rel = osp.relpath(osp.join(dirpath, name), root)
                if fnmatch.fnmatch(rel, pattern.replace('**/', '*')):
                    found.add(rel)
    return sorted(p for p in found if not p.endswith('__init__.py'))


def list_mutants(root, path):
    """``(line_text, index, line_number)`` of every mutmut mutant of a
    file (mutmut's own RelativeMutationID fields)."""
    from mutmut import Context, list_mutations
    with open(osp.join(root, path)) as f:
        source = f.read()
    ids = list_mutations(Context(source=source, filename=path,
                                 dict_synonyms=[]))
    return [(m.line, m.index, m.line_number) for m in ids]


def mutated_source(root, path, mutant):
    """The source of ``path`` with one mutant applied, and its new line."""
    from mutmut import Context, RelativeMutationID, mutate
    with open(osp.join(root, path)) as f:
        source = f.read()
    line, index, line_number = mutant
    context = Context(
        source=source, filename=path, dict_synonyms=[],
        mutation_id=RelativeMutationID(line, index, line_number, path))
    new_source, count = mutate(context)
    if count != 1:
        raise RuntimeError(f'mutant {mutant} of {path} applied {count}x')
    new_line = new_source.split('\n')[line_number]
    return source, new_source, new_line


# ---------------------------------------------------------------- copies
def copy_tree(rev, dest):
    """A private copy of the repository (working tree, or ``rev``)."""
    if rev is not None:
        archive = subprocess.run(['git', 'archive', rev], cwd=REPO,
                                 check=True, capture_output=True).stdout
        os.makedirs(dest)
        subprocess.run(['tar', '-x', '-C', dest], input=archive, check=True)
        return dest
    files = subprocess.run(
        ['git', 'ls-files', '-z', '--cached', '--others',
         '--exclude-standard'], cwd=REPO, check=True,
        capture_output=True).stdout.decode().split('\0')
    for rel in filter(None, files):
        src = osp.join(REPO, rel)
        if not osp.isfile(src):  # deleted in the working tree
            continue
        os.makedirs(osp.dirname(osp.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, osp.join(dest, rel))
    return dest


def private_python(root, folder):
    """An interpreter that imports the package from ``root`` (a copy), also
    in the subprocesses that tests start.

    The editable install (``pip install -e .``) maps ``projects`` to the
    source checkout through a finder that every interpreter of the venv
    loads from a ``.pth`` file, so a test that runs ``tools/train.py`` in a
    subprocess (its first import folder is ``tools/``, not the copy) or
    that sets its own ``PYTHONPATH`` imports the checkout, and the mutants it
    should see look alive. The venv made here (no pip; the same base
    interpreter) reaches the installed packages through plain path entries
    (a path listed in a ``.pth`` file is not scanned for ``.pth`` files, so
    the editable finder is not loaded; the other ``.pth`` files are copied)
    with ``root`` first. Tests start their subprocesses with
    ``sys.executable``, i.e. this interpreter.

    Args:
        root (str): The copy of the repository.
        folder (str): Where to create the venv (must not exist).

    Returns:
        str: The venv's ``python``.
    """
    import site
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', folder],
                   check=True)
    python = osp.join(folder, 'bin', 'python')
    purelib = subprocess.run(
        [python, '-c', 'import sysconfig; '
         'print(sysconfig.get_paths()["purelib"])'],
        check=True, capture_output=True, text=True).stdout.strip()
    installed = [p for p in site.getsitepackages() if osp.isdir(p)]
    with open(osp.join(purelib, '_mutation_copy.pth'), 'w') as f:
        f.write('\n'.join([root] + installed) + '\n')
    for site_dir in installed:
        for name in os.listdir(site_dir):
            if name.endswith('.pth') and not name.startswith('__editable__'):
                shutil.copy(osp.join(site_dir, name), purelib)
    return python


def thread_env():
    """One thread per test process; no bytecode (mutants share mtimes)."""
    env = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1',
           'PYTHONDONTWRITEBYTECODE': '1', 'CI': ''}
    os.environ.update(env)
    sys.dont_write_bytecode = True
    return env


# ---------------------------------------------------------------- worker
def is_message_text(result):
    """Whether a mutant only changed the text of a message."""
    old, new = result['mutant'][0].strip(), result['new_line']
    if new.replace('XX', '') != old.replace('XX', ''):
        return False
    return old[:2].lstrip('frb').startswith(('"', "'")) or \
        any(marker in old for marker in MESSAGE_MARKERS)


def run_tests_forked(root, tests, timeout):
    """Run pytest on ``tests`` in a forked child; 'killed' / 'survived' /
    'timeout' and the seconds it took."""
    start = time.time()
    pid = os.fork()
    if pid == 0:  # child: own process group, quiet, pytest in-process
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            import pytest
            code = pytest.main([
                '-x', '-q', '-p', 'no:cacheprovider', '-W', 'ignore',
                '--rootdir', root, *tests
            ])
        except BaseException:  # noqa: B902 (an import error kills it too)
            code = 99
        os._exit(int(code))
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return ('survived' if code == 0 else 'killed'), \
                time.time() - start
        if time.time() - start > timeout:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return 'timeout', time.time() - start
        time.sleep(0.05)


def worker(job_file):
    """Run the jobs of one worker in its own copy; one JSON line each."""
    with open(job_file) as f:
        job = json.load(f)
    root = job['root']
    thread_env()
    os.chdir(root)  # the launcher's private python imports the copy
    for name in PRELOAD:  # before any fork: imported once
        try:
            __import__(name)
        except ImportError:
            pass
    baselines = {}
    for item in job['mutants']:
        tests = item['tests']
        key = ' '.join(tests)
        if key not in baselines:
            status, seconds = run_tests_forked(root, tests, 1800)
            if status != 'survived':
                raise SystemExit(f'clean tests fail in the copy: {tests}')
            baselines[key] = seconds
        timeout = job['timeout_factor'] * baselines[key] + 10
        path = osp.join(root, item['path'])
        source, new_source, new_line = mutated_source(
            root, item['path'], tuple(item['mutant']))
        with open(path, 'w') as f:
            f.write(new_source)
        try:
            status, seconds = run_tests_forked(root, tests, timeout)
        finally:
            with open(path, 'w') as f:
                f.write(source)
        print(json.dumps(dict(item, status=status, seconds=round(seconds, 2),
                              new_line=new_line.strip())), flush=True)


# ---------------------------------------------------------------- main
def plan(root, args):
    """Mutants to run: per group, all or a seeded sample."""
    sample = args.sample
    if sample is None and args.quick:
        sample = QUICK_SAMPLE
    items, counts = [], OrderedDict()
    for group in args.groups:
        folders = GROUPS[group][1]
        missing = [f for f in folders if not osp.exists(osp.join(root, f))]
        if missing:
            raise SystemExit(f'group {group}: no tests at {missing}')
        tests = [*folders, *FAST]
        for path in args.exclude_tests:
            tests += ['--ignore', path]
        group_items = []
        for path in group_sources(root, group):
            mutants = list_mutants(root, path)
            counts[path] = len(mutants)
            group_items += [
                dict(group=group, path=path, mutant=list(m), tests=tests)
                for m in mutants
            ]
        size = sample.get(group) if isinstance(sample, dict) else sample
        if size is not None and size < len(group_items):
            group_items = random.Random(args.seed).sample(group_items, size)
        items += group_items
    return items, counts


def report(results, counts, elapsed, args):
    """Print killed / survived / timeout per module and the survivors.

    ``score`` = (killed + timeout) / run; ``msg`` counts the survivors that
    only changed a message's text, ``score*`` leaves those out.
    """
    by_path = OrderedDict()
    for r in sorted(results, key=lambda r: (r['group'], r['path'])):
        by_path.setdefault((r['group'], r['path']), []).append(r)
    print(f'\nmutation score ({len(results)} mutants, {elapsed / 60:.1f} '
          f'min, {args.workers} workers, seed {args.seed})')
    print(f'{"module":58s} {"all":>4s} {"run":>4s} {"kill":>4s} '
          f'{"surv":>4s} {"msg":>4s} {"tout":>4s} {"score":>6s} '
          f'{"score*":>6s}')

    def line(name, total, rows):
        k = sum(r['status'] == 'killed' for r in rows)
        t = sum(r['status'] == 'timeout' for r in rows)
        s = sum(r['status'] == 'survived' for r in rows)
        m = sum(r['status'] == 'survived' and is_message_text(r)
                for r in rows)
        n = len(rows)
        print(f'{name:58s} {total:>4} {n:4d} {k:4d} {s:4d} {m:4d} {t:4d} '
              f'{100. * (k + t) / max(n, 1):5.1f}% '
              f'{100. * (k + t) / max(n - m, 1):5.1f}%')

    groups = OrderedDict()
    for (group, path), rows in by_path.items():
        line(path, counts.get(path, 0), rows)
        groups.setdefault(group, []).extend(rows)
    for group, rows in groups.items():
        line(f'[{group}]', '', rows)
    survivors = [r for r in results if r['status'] == 'survived']
    print(f'\nsurvivors ({len(survivors)}; "msg" = message text only):')
    for r in sorted(survivors, key=lambda r: (r['path'], r['mutant'][2])):
        tag = ' [msg]' if is_message_text(r) else ''
        print(f'  {r["path"]}:{r["mutant"][2] + 1}{tag}: '
              f'{r["mutant"][0].strip()}\n      -> {r["new_line"]}')


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        worker(args.worker)
        return
    tmp = tempfile.mkdtemp(prefix='mutation_')
    try:
        master = copy_tree(args.rev, osp.join(tmp, 'repo0'))
        items, counts = plan(master, args)
        if args.list:
            for path, n in counts.items():
                print(f'{n:5d} {path}')
            print(f'{sum(counts.values()):5d} mutants in all')
            return
        print(f'{len(items)} mutants of {sum(counts.values())}; '
              f'{args.workers} workers', flush=True)
        procs, outputs = [], []
        for w in range(args.workers):
            root = master if w == 0 else shutil.copytree(
                master, osp.join(tmp, f'repo{w}'))
            job = osp.join(tmp, f'job{w}.json')
            with open(job, 'w') as f:
                json.dump(dict(root=root, mutants=items[w::args.workers],
                               timeout_factor=args.timeout_factor), f)
            out = open(osp.join(tmp, f'out{w}.jsonl'), 'w')
            outputs.append(out.name)
            python = private_python(root, osp.join(tmp, f'venv{w}'))
            procs.append(subprocess.Popen(
                [python, osp.abspath(__file__), '--worker', job],
                stdout=out, env=dict(
                    os.environ, **thread_env(),
                    PATH=os.pathsep.join((osp.dirname(python),
                                          os.environ.get('PATH', ''))),
                    PYTHONPATH=os.pathsep.join(
                        p for p in (root, os.environ.get('PYTHONPATH'))
                        if p))))
        start = time.time()
        codes = [p.wait() for p in procs]
        elapsed = time.time() - start
        results = []
        for name in outputs:
            with open(name) as f:
                results += [json.loads(line) for line in f if line.strip()]
        if any(codes) or len(results) != len(items):
            raise SystemExit(f'workers exited {codes}; {len(results)} of '
                             f'{len(items)} mutants ran')
        report(results, counts, elapsed, args)
        if args.json:
            with open(args.json + '.tmp', 'w') as f:
                json.dump(dict(results=results, counts=counts,
                               minutes=elapsed / 60, args=vars(args)), f,
                          indent=1)
            os.replace(args.json + '.tmp', args.json)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
