"""Install depth-pixpro: ``pip install -e .`` (CPU pins: requirements/runtime.txt).

``projects`` is a namespace package (PEP 420, no ``__init__.py``), as in
OpenMMLab's ``projects/`` folders: this distribution installs
``projects.depth_pixpro`` only, beside any other ``projects.*``.
"""
import os.path as osp

from setuptools import find_namespace_packages, setup


def read_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    path = osp.join(osp.dirname(__file__), 'requirements', f'{name}.txt')
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


setup(
    name='depth-pixpro',
    version='0.1.0',
    description='Depth-aware pixel-level contrastive pretraining '
    '(PixPro + exogenous depth, Ben Saad et al. WACV 2023) for OpenMMLab',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_namespace_packages(
        include=['projects.depth_pixpro', 'projects.depth_pixpro.*']),
    python_requires='>=3.8',
    install_requires=read_requirements('runtime'),
    extras_require={
        'tests': read_requirements('tests'),
        'depth': read_requirements('depth'),
        'dev': read_requirements('dev'),
    },
    license='Apache-2.0',
)
