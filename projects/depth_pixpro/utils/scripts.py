"""What the scripts of ``tools/`` and ``benchmarks/`` share: the repository
root, ``tools/*.py`` command lines (plain or under torchrun), a free port,
the thread environment of child processes, mmengine's JSON logs and the
config text a checkpoint carries, read without executing it.

The scripts import it from the installed package (``pip install -e .``), so
none of them edits ``sys.path``.
"""
import ast
import glob
import json
import os
import os.path as osp
import socket
import sys
from typing import Dict, Iterable, List, Optional

#: Environment variables that size the BLAS / OpenMP thread pools.
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')


def repo_root() -> str:
    """The source checkout holding ``tools/``, ``configs/`` and this package.

    Returns:
        str: Absolute path of the repository root.

    Raises:
        RuntimeError: The package was not installed from a source checkout
            (``pip install -e .``), so ``tools/train.py`` is not next to it.
    """
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    if not osp.isfile(osp.join(root, 'tools', 'train.py')):
        raise RuntimeError(
            f'no tools/train.py under {root}: the scripts need the source '
            'checkout installed with `pip install -e .`')
    return root


def free_port(host: str = '127.0.0.1') -> int:
    """A TCP port free at the time of the call (torchrun's rendezvous)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def tool_command(tool: str, nproc: int = 1,
                 distributed: Optional[bool] = None) -> List[str]:
    """Command line that runs ``tools/<tool>`` with this Python.

    Args:
        tool (str): Script under ``tools/``, e.g. ``'train.py'``.
        nproc (int): Processes of a distributed launch. Defaults to 1.
        distributed (bool, optional): Launch through
            ``torch.distributed.run`` with ``--launcher pytorch``. Defaults
            to ``nproc > 1``; True with ``nproc=1`` gives a one-process DDP
            run (e.g. to compare process counts with nothing else changed).

    Returns:
        list[str]: The command; append the tool's own arguments.
    """
    if distributed is None:
        distributed = nproc > 1
    path = osp.join(repo_root(), 'tools', tool)
    if not distributed:
        return [sys.executable, path]
    return [
        sys.executable, '-m', 'torch.distributed.run',
        f'--nproc_per_node={nproc}', f'--master_port={free_port()}', path,
        '--launcher', 'pytorch'
    ]


def thread_env(threads: int,
               base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment of a child process with ``threads`` BLAS/OpenMP threads.

    Args:
        threads (int): Threads per pool.
        base (dict, optional): Environment to start from; ``os.environ``
            if None.

    Returns:
        dict: A copy of ``base`` with every :data:`THREAD_VARS` set.
    """
    env = dict(os.environ if base is None else base)
    env.update({var: str(threads) for var in THREAD_VARS})
    return env


def read_json_lines(path: str) -> List[dict]:
    """Records of an mmengine JSON log (one JSON object per line).

    Raises:
        ValueError: A line is not JSON (names the file and line).
    """
    records = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{lineno} is not JSON: {e}')
    return records


def scalars_files(work_dir: str) -> List[str]:
    """``<work_dir>/<timestamp>/vis_data/scalars.json`` of every session of
    a run (a resumed run has several), oldest first."""
    return sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))


def read_scalars(work_dir: str, newest_only: bool = False) -> List[dict]:
    """Records that mmengine's visualizer logged for a run (``scalars.json``:
    training records with ``iter``, validation records with the metrics).

    Args:
        work_dir (str): The run's work dir.
        newest_only (bool): Only the newest session's records. Defaults to
            False: every session's, oldest first.

    Returns:
        list[dict]: The records in logging order; empty if the run logged
        nothing.
    """
    files = scalars_files(work_dir)
    if newest_only:
        files = files[-1:]
    return [record for path in files for record in read_json_lines(path)]


def _literal(node: ast.AST, where: str):
    """Value of a literal expression or of ``dict(key=literal, ...)``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == 'dict' and not node.args and \
            all(kw.arg is not None for kw in node.keywords):
        return {kw.arg: _literal(kw.value, where) for kw in node.keywords}
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [_literal(e, where) for e in node.elts]
        return values if isinstance(node, ast.List) else tuple(values)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_literal(k, where): _literal(v, where)
                for k, v in zip(node.keys, node.values)}
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(
            f'{where}: {ast.unparse(node)[:80]!r} is not a literal (only '
            'constants, lists, tuples, dicts and dict(...) are read)')


def literal_value(text: str, where: str):
    """Value of ONE literal expression (constants, lists, tuples, dicts,
    ``dict(key=literal, ...)``), read without executing it.

    Raises:
        ValueError: Syntax error or anything but such a literal (the
            message starts with ``where``).
    """
    try:
        node = ast.parse(text.strip(), mode='eval').body
    except SyntaxError as e:
        raise ValueError(f'{where}: {text[:80]!r} is not Python syntax '
                         f'({e.msg})')
    return _literal(node, where)


def literal_config(text: str) -> Dict[str, object]:
    """Read config text (e.g. ``meta['cfg']`` of an mmengine checkpoint)
    WITHOUT executing it: top-level ``name = value`` assignments whose
    values are literals or ``dict(...)`` calls, as mmengine dumps them.

    Args:
        text (str): Python-syntax config text.

    Returns:
        dict: name -> value (wrap in :class:`mmengine.config.Config`).

    Raises:
        ValueError: Syntax error, or anything but such assignments (a
            function call, an import, a name, an expression).
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        raise ValueError(f'config text is not Python syntax: {e}')
    cfg = {}
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and
                len(statement.targets) == 1 and
                isinstance(statement.targets[0], ast.Name)):
            raise ValueError(
                f'line {statement.lineno}: only "name = value" statements '
                'are read from stored config text')
        name = statement.targets[0].id
        cfg[name] = _literal(statement.value, f'line {statement.lineno}')
    return cfg


def _is_registered(registry, name: str) -> bool:
    """Whether ``name`` is registered in ``registry`` or an ancestor, looked
    up WITHOUT ``Registry.get``, which imports any dotted path it does not
    know (``'os.system'``)."""
    registry.import_from_location()  # the registry's own modules
    while registry is not None:
        if name in registry.module_dict:
            return True
        registry = registry.parent
    return False


def check_registered_types(node, registries: Iterable, where: str,
                           key: str = 'cfg') -> None:
    """Refuse every ``type`` of a config that is not a registered name.

    For config text that came with a file this process did not write (a
    checkpoint's ``meta['cfg']``): mmengine's ``Registry.build`` resolves an
    unknown ``type`` as an import path, so ``dict(type='os.system',
    command=...)`` would run a command, and a ``_scope_`` imports
    ``<scope>.registry``. Only plain names found in ``registries`` (or their
    parents) pass.

    Args:
        node: The config (dict / list tree) to check.
        registries (Iterable[Registry]): Where a ``type`` may be registered
            (e.g. mmpretrain's ``MODELS`` and ``WEIGHT_INITIALIZERS``).
        where (str): The file the config came from, for messages.
        key (str): Dotted key of ``node``, for messages.

    Raises:
        ValueError: A ``type`` that is not a string, has a dot (an import
            path) or is registered nowhere, or a ``_scope_`` key; the
            message names the file and the key.
    """
    registries = list(registries)
    if isinstance(node, dict):
        for name, value in node.items():
            child = f'{key}.{name}'
            if name == '_scope_':
                raise ValueError(
                    f'{where}: {child}={value!r} in the stored config: '
                    'a scope switch imports a module, refused in config '
                    'text from a file; pass --config CONFIG')
            if name == 'type':
                if not isinstance(value, str) or '.' in value or \
                        not any(_is_registered(r, value)
                                for r in registries):
                    raise ValueError(
                        f'{where}: {child}={value!r} in the stored config '
                        'is not a registered name of '
                        f'{", ".join(sorted({r.name for r in registries}))}'
                        '; stored config text may only name registered '
                        'components (no import paths); pass --config '
                        'CONFIG')
                continue
            check_registered_types(value, registries, where, child)
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            check_registered_types(value, registries, where,
                                   f'{key}[{index}]')
