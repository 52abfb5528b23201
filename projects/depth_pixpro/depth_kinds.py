"""What a sample's depth values are (its kind) and which depth tests each
kind allows: the one owner of the kinds, their names and their tests.

A kind enters at the data boundary -- a dataset's or ``LoadDepth``'s
``depth_kind`` argument, a folder's ``depth_info.json`` -- where
:func:`check_depth_kind` checks it; it then travels unchanged with its
sample (``depth_kind`` of the results and of the packed data sample) to the
pair filters, which refuse a kind their test is meaningless for.
"""
from typing import Dict, Tuple

__all__ = [
    'DEPTH_KINDS', 'SCALED_KINDS', 'DEPTH_MODES', 'KIND_MODES', 'AUTO_MODES',
    'check_depth_kind'
]

#: ``'metric'``: metres (Cityscapes disparity is converted to it on load).
#: ``'inverse'``: inverse depth (disparity-like, larger = nearer) up to an
#: unknown scale. ``'scale_free'``: depth up to an unknown scale.
#: ``'affine'``: known only up to an unknown scale AND shift, as the
#: "relative" monocular networks (MiDaS/DPT, Depth Anything) predict
#: (their output is affine-invariant inverse depth).
DEPTH_KINDS: Tuple[str, ...] = ('metric', 'inverse', 'scale_free', 'affine')
#: The kinds known up to a scale: a ratio of two depths (a relative jump)
#: and a surface's orientation (normals) mean something for them.
SCALED_KINDS: Tuple[str, ...] = ('metric', 'inverse', 'scale_free')

#: The depth tests of ``DepthPairFilter`` (``mode``) on a pair of cell
#: depths a, b: ``relative`` |a - b| / max(a, b), ``absolute`` |a - b|,
#: ``normalized`` |a - b| after min-max normalisation over the whole image.
DEPTH_MODES: Tuple[str, ...] = ('relative', 'absolute', 'normalized')
#: The depth tests that mean something for each kind, and why:
#: ``relative`` is scale-free, and for inverse depth
#: |1/a - 1/b| / max(1/a, 1/b) = |a - b| / max(a, b), exactly the metric
#: test; ``absolute`` needs a known unit (metric only); ``normalized``
#: removes scale and shift, the only test an affine depth allows.
KIND_MODES: Dict[str, Tuple[str, ...]] = {
    'metric': ('relative', 'absolute', 'normalized'),
    'inverse': ('relative', 'normalized'),
    'scale_free': ('relative', 'normalized'),
    'affine': ('normalized', ),
}
#: ``DepthPairFilter(mode='auto')``: the test each kind gets.
AUTO_MODES: Dict[str, str] = {
    'metric': 'relative',
    'inverse': 'relative',
    'scale_free': 'relative',
    'affine': 'normalized'
}


def check_depth_kind(kind: str, source: str = 'depth_kind') -> str:
    """Refuse an unknown depth kind, naming where it came from.

    Args:
        kind (str): The kind as written by a user, a config or a file.
        source (str): Where it came from (a config key, a file), for the
            message.

    Returns:
        str: ``kind``, one of :data:`DEPTH_KINDS`.
    """
    if kind not in DEPTH_KINDS:
        raise ValueError(
            f'{source}: depth_kind must be one of {DEPTH_KINDS}, got {kind!r}')
    return kind
