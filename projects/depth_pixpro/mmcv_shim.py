"""A placeholder ``mmcv._ext`` for mmcv-lite installs.

mmcv-lite has no compiled ``mmcv._ext``, yet mmseg 1.2.2 imports ``mmcv.ops``
unconditionally. :func:`install_mmcv_ext_shim` registers a module whose ops
raise a clear error only when one is *called*. It is a no-op with full mmcv.
Imported first by :mod:`projects.depth_pixpro`, before anything imports mmseg.
"""
import importlib.machinery
import importlib.util
import sys
import types

__all__ = ['install_mmcv_ext_shim']


class _MissingOp:
    """Stands in for a compiled mmcv op; fails with a clear message if called."""

    def __init__(self, name: str):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f'mmcv op "{self.__name__}" needs the compiled mmcv extension, '
            'which mmcv-lite does not ship. Install full mmcv==2.1.0 (see '
            'README, "Install", CUDA) to use this op.')


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


install_mmcv_ext_shim()
