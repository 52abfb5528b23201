"""Engine extras (hooks, optimizer-wrapper constructors)."""
from . import hooks, optimizers  # noqa: F401
