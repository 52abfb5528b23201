"""tools/dev/mutation_score.py: a worker's tests, and the tools they start
in subprocesses, import the mutated copy, never the editable checkout."""
import os
import subprocess
import sys

import pytest

from helpers import load_script

PROBE = ('import numpy, projects.depth_pixpro as p; '
         'print(p.__file__); print(p.MARK)')


@pytest.mark.slow
def test_private_python_imports_the_copy_whatever_the_environment(
        tmp_path):
    copy = tmp_path / 'copy'
    (copy / 'projects' / 'depth_pixpro').mkdir(parents=True)
    (copy / 'projects' / '__init__.py').write_text('')
    (copy / 'projects' / 'depth_pixpro' / '__init__.py').write_text(
        "MARK = 'mutated copy'\n")
    (copy / 'tools').mkdir()
    (copy / 'tools' / 'probe.py').write_text(PROBE.replace('; ', '\n'))
    python = load_script('tools/dev/mutation_score.py').private_python(
        str(copy), str(tmp_path / 'venv'))
    expected = str(copy / 'projects' / 'depth_pixpro' / '__init__.py')
    # a test that overwrites PYTHONPATH, and a script whose first import
    # folder is its own (python tools/x.py), as the tool tests do
    env = dict(os.environ, PYTHONPATH=str(tmp_path / 'elsewhere'))
    for argv in (['-c', PROBE], [str(copy / 'tools' / 'probe.py')]):
        out = subprocess.run([python] + argv, cwd=str(tmp_path), env=env,
                             capture_output=True, text=True, check=True)
        assert out.stdout.split('\n')[:2] == [expected, 'mutated copy']
    # the interpreter of this test session finds the checkout instead
    out = subprocess.run([sys.executable, '-c', 'import projects; '
                          'print(projects.__file__)'], cwd=str(tmp_path),
                         env=env, capture_output=True, text=True, check=True)
    assert not out.stdout.startswith(str(copy))
