"""Engine extras (hooks)."""
from . import hooks  # noqa: F401
