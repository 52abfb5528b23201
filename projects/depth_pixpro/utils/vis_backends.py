"""The packages mmengine's visualization backends need, checked before a run
starts (mmengine imports them lazily: a missing one is a traceback at the
first logged value)."""
import importlib.util
from typing import Callable, List, Optional

__all__ = ['BACKEND_PACKAGES', 'missing_backend_packages']

#: Backend type -> (module it imports, what to ``pip install``).
BACKEND_PACKAGES = {
    'TensorboardVisBackend': ('tensorboard', 'tensorboard'),
    'WandbVisBackend': ('wandb', 'wandb'),
    'MLflowVisBackend': ('mlflow', 'mlflow'),
    'ClearMLVisBackend': ('clearml', 'clearml'),
    'NeptuneVisBackend': ('neptune', 'neptune'),
    'DVCLiveVisBackend': ('dvclive', 'dvclive'),
    'AimVisBackend': ('aim', 'aim'),
}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def missing_backend_packages(
        cfg, installed: Callable[[str], bool] = _installed) -> List[str]:
    """One message per configured backend whose package is not installed.

    Args:
        cfg (mmengine.Config | dict): The run's config (``visualizer``).
        installed (callable): ``module name -> bool``; defaults to an
            import-spec lookup.

    Returns:
        list[str]: e.g. ``visualizer.vis_backends[0] is
        TensorboardVisBackend, which needs the tensorboard package: pip
        install tensorboard (or remove the backend)``.
    """
    visualizer: Optional[dict] = cfg.get('visualizer') or {}
    messages = []
    for i, backend in enumerate(visualizer.get('vis_backends') or []):
        name = backend.get('type') if isinstance(backend, dict) else None
        name = getattr(name, '__name__', name)
        if name not in BACKEND_PACKAGES:
            continue
        module, package = BACKEND_PACKAGES[name]
        if not installed(module):
            messages.append(
                f'visualizer.vis_backends[{i}] is {name}, which needs the '
                f'{package} package: pip install {package} (or remove the '
                'backend)')
    return messages
