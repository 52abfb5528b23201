"""A placeholder ``mmcv._ext`` for mmcv-lite installs.

mmcv-lite has no compiled ``mmcv._ext``, yet mmseg 1.2.2 imports ``mmcv.ops``
unconditionally. :func:`install_mmcv_ext_shim` registers a module whose ops
raise a clear error only when one is *called*. It is a no-op with full mmcv.
Imported first by :mod:`projects.depth_pixpro`, before anything imports mmseg.
:func:`warn_if_numpy2` warns at import about numpy 2, which mmcv 2.1.0's
``adjust_hue`` does not support.
"""
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from typing import Optional

__all__ = ['install_mmcv_ext_shim', 'warn_if_numpy2']


class _MissingOp:
    """Stands in for a compiled mmcv op; fails with a clear message if called."""

    def __init__(self, name: str):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f'mmcv op "{self.__name__}" needs the compiled mmcv extension, '
            'which mmcv-lite does not ship. Install full mmcv==2.1.0 (see '
            'README, "Install with CUDA") to use this op.')


class _ExtShim(types.ModuleType):

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        return _MissingOp(name)


def install_mmcv_ext_shim() -> bool:
    """Register a placeholder ``mmcv._ext`` if mmcv has no compiled ops.

    Returns:
        bool: True if the shim was installed, False if not needed.
    """
    if 'mmcv._ext' in sys.modules:
        return False
    try:
        if importlib.util.find_spec('mmcv') is None:
            return False
        if importlib.util.find_spec('mmcv._ext') is not None:
            return False  # full mmcv: the real extension is there
    except (ImportError, ValueError):
        return False
    shim = _ExtShim('mmcv._ext')
    # A real spec: mmengine's mmcv_full_available() calls pkgutil.find_loader.
    shim.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', loader=None)
    shim.__spec__.loader = importlib.machinery.BuiltinImporter
    shim.__dict__['__file__'] = '<mmcv-lite shim>'
    shim.__dict__['IS_SHIM'] = True
    sys.modules['mmcv._ext'] = shim
    return True


def warn_if_numpy2(version: Optional[str] = None) -> bool:
    """Warn when numpy >= 2 is installed: mmcv 2.1.0's ``adjust_hue`` (used
    by mmpretrain's ``ColorJitter``, so by every pretraining view pipeline)
    adds ``np.uint8(hue_factor * 255)`` to a uint8 array, which numpy 2
    refuses for a negative hue ("Python integer -18 out of bounds for uint8",
    seen in a data worker on a CUDA machine with numpy 2.5.2).

    Args:
        version (str, optional): numpy version to check (default: the
            installed one).

    Returns:
        bool: True if it warned.
    """
    if version is None:
        import numpy
        version = numpy.__version__
    if int(version.split('.')[0]) < 2:
        return False
    warnings.warn(
        f'numpy {version} is installed; depth-pixpro needs numpy < 2 '
        '(requirements/runtime.txt pins 1.26.4): with numpy 2, mmcv 2.1.0\'s '
        'adjust_hue (ColorJitter hue in the pretraining views) fails with '
        '"OverflowError: Python integer ... out of bounds for uint8".',
        RuntimeWarning, stacklevel=2)
    return True


install_mmcv_ext_shim()
warn_if_numpy2()
