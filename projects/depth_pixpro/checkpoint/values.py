"""What the values of a state dict are: its largest magnitude, so that
diverged weights (NaN, inf, ~1e30) are found before they are trained on,
saved or converted."""
from typing import Dict, Tuple

import torch

__all__ = ['largest_weight']


def _float_tensors(state: Dict[str, torch.Tensor]) -> Tuple[list, list]:
    names, tensors = [], []
    for name, value in state.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() \
                and value.numel():
            names.append(name)
            tensors.append(value.detach())
    return names, tensors


def largest_weight(state: Dict[str, torch.Tensor]) -> Tuple[str, float]:
    """The floating-point tensor of a state dict with the largest absolute
    value, and that value (NaN if any tensor holds a NaN).

    One multi-tensor max-norm and one device-to-host copy, whatever the
    number of tensors.

    Returns:
        tuple: ``(name, value)``; ``('', 0.0)`` for a state without
        floating-point tensors.
    """
    names, tensors = _float_tensors(state)
    if not tensors:
        return '', 0.
    by_dtype = {}  # _foreach_norm wants one dtype and device per call
    for index, tensor in enumerate(tensors):
        by_dtype.setdefault((tensor.dtype, tensor.device), []).append(index)
    peaks = torch.empty(len(tensors), dtype=torch.float64)
    for indices in by_dtype.values():
        norms = torch._foreach_norm([tensors[i] for i in indices],
                                    float('inf'))
        peaks[indices] = torch.stack(norms).double().cpu()
    nan = torch.isnan(peaks)
    index = int(nan.nonzero()[0]) if nan.any() else int(peaks.argmax())
    return names[index], float(peaks[index])
