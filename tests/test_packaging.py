"""Packaging: ``projects`` is a namespace package (PEP 420), so that another
distribution's ``projects.<name>`` installs beside ``projects.depth_pixpro``
instead of colliding with it."""
import os.path as osp
import subprocess
import sys

from helpers import REPO_ROOT


def test_projects_is_a_namespace_package():
    import projects
    assert getattr(projects, '__file__', None) is None
    assert not osp.exists(osp.join(REPO_ROOT, 'projects', '__init__.py'))


def test_another_projects_package_installs_beside_ours(tmp_path):
    other = tmp_path / 'projects' / 'other_extension'
    other.mkdir(parents=True)
    (other / '__init__.py').write_text('NAME = "other"\n')
    # find_spec locates our package without importing it (quick)
    code = ('import sys, importlib.util; sys.path.append(sys.argv[1]); '
            'import projects.other_extension as o; '
            "ours = importlib.util.find_spec('projects.depth_pixpro'); "
            'print(o.NAME, ours.origin)')
    out = subprocess.run([sys.executable, '-c', code, str(tmp_path)],
                         cwd=str(tmp_path), capture_output=True, text=True,
                         check=True).stdout
    name, origin = out.split()
    assert name == 'other'
    assert origin.endswith(osp.join('projects', 'depth_pixpro',
                                    '__init__.py'))
