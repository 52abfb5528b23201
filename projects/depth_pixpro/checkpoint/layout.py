"""What a checkpoint file holds, and where its online backbone weights are.

One place decides the layout of a checkpoint for every tool (the mmseg
converter, the segmentation transfer script): OpenMMLab DepthPixPro/PixPro
runner checkpoints (``backbone.*`` next to the momentum target
``target_net.*``), checkpoints of the official PixPro code (``model`` with
``module.encoder.*`` online keys, ``module.encoder_k.*`` the target), finished
task models (``backbone.*`` with ``decode_head.*``) and bare backbone state
dicts (converted files, torchvision weights).
"""
import re
from collections import OrderedDict
from typing import Dict, NamedTuple

__all__ = [
    'CheckpointLayout', 'NotPixProCheckpointError', 'UnknownLayoutError',
    'model_state_dict', 'detect_layout', 'backbone_state_dict'
]

# Online-backbone prefix of each supported checkpoint flavour.
MMLAB_PREFIX = 'backbone.'
PIXPRO_PREFIX = 'module.encoder.'
# The momentum target: only a self-supervised (PixPro-like) runner
# checkpoint carries it. ``neck.``/``head.`` are no markers: an mmseg
# segmentor with an FPN has ``neck.*``, an mmpretrain classifier
# ``head.fc.*``.
SELFSUP_MARKERS = ('target_net.', )
# Keys of a finished segmentation model: not a pretraining file.
TASK_MARKERS = ('decode_head.', 'auxiliary_head.')
# Keys of a bare ResNet state dict (plain or deep stem).
_BARE_BACKBONE = re.compile(r'^(conv1|stem|bn1|layer[1-4])\.')

# Layout kinds.
DEPTH_PIXPRO = 'depth_pixpro'  # OpenMMLab pretraining runner checkpoint
PIXPRO = 'pixpro'  # official PixPro code
SEGMENTOR = 'segmentor'  # backbone.* with decode_head.*: a finished model
MODEL = 'model'  # backbone.* of another OpenMMLab model (a classifier)
BACKBONE = 'backbone'  # bare backbone state dict (converted, torchvision)
PRETRAINING_KINDS = (DEPTH_PIXPRO, PIXPRO)


class UnknownLayoutError(ValueError):
    """The file holds no backbone weights this project recognises."""


class NotPixProCheckpointError(UnknownLayoutError):
    """The input file is not a (Depth-)PixPro pretraining checkpoint."""


class CheckpointLayout(NamedTuple):
    """The detected layout of a checkpoint's weights.

    Attributes:
        kind (str): ``depth_pixpro``, ``pixpro``, ``segmentor``, ``model`` or
            ``backbone``.
        prefix (str): Prefix of the online backbone keys (``''`` for a bare
            backbone state dict).
    """
    kind: str
    prefix: str

    @property
    def is_pretraining(self) -> bool:
        """True for a (Depth-)PixPro pretraining checkpoint."""
        return self.kind in PRETRAINING_KINDS


def model_state_dict(checkpoint, source: str = '<checkpoint>') -> Dict:
    """The weights inside a loaded checkpoint.

    Args:
        checkpoint (dict): Runner checkpoint (``state_dict``), official PixPro
            checkpoint (``model``) or a bare state dict.
        source (str): Name used in error messages.

    Returns:
        dict: key -> tensor.

    Raises:
        UnknownLayoutError: not a dict, or no weights dict inside.
    """
    if not isinstance(checkpoint, dict):
        raise UnknownLayoutError(
            f'{source}: expected a checkpoint dict, got '
            f'{type(checkpoint).__name__}.')
    state = checkpoint.get('state_dict', checkpoint.get('model', checkpoint))
    if not isinstance(state, dict):
        raise UnknownLayoutError(f'{source}: no state_dict inside.')
    return state


def detect_layout(state_dict: Dict,
                  source: str = '<checkpoint>') -> CheckpointLayout:
    """Detect the layout of a state dict from its key names.

    Args:
        state_dict (dict): Weights, e.g. from :func:`model_state_dict`.
        source (str): Name used in error messages.

    Returns:
        CheckpointLayout: kind and online-backbone prefix.

    Raises:
        UnknownLayoutError: none of the known layouts (the message lists the
            first keys).
    """
    keys = [str(k) for k in state_dict]
    if any(k.startswith(PIXPRO_PREFIX) for k in keys):
        return CheckpointLayout(PIXPRO, PIXPRO_PREFIX)
    sample = ', '.join(keys[:5])
    if any(k.startswith(MMLAB_PREFIX) for k in keys):
        # exclusive conditions: their order does not matter
        task = any(k.startswith(TASK_MARKERS) for k in keys)
        selfsup = any(k.startswith(SELFSUP_MARKERS) for k in keys)
        if task and selfsup:
            raise UnknownLayoutError(
                f'{source} has both a momentum target ({SELFSUP_MARKERS}) '
                f'and task heads ({TASK_MARKERS}): not a layout this '
                f'project writes (first keys: {sample}).')
        if task:
            return CheckpointLayout(SEGMENTOR, MMLAB_PREFIX)
        if selfsup:
            return CheckpointLayout(DEPTH_PIXPRO, MMLAB_PREFIX)
        return CheckpointLayout(MODEL, MMLAB_PREFIX)
    if keys and any(_BARE_BACKBONE.match(k) for k in keys):
        return CheckpointLayout(BACKBONE, '')
    raise UnknownLayoutError(
        f'{source} is not a DepthPixPro/PixPro checkpoint nor a backbone '
        f'state dict: no "{MMLAB_PREFIX}*", "{PIXPRO_PREFIX}*" or ResNet '
        f'keys (first keys: {sample}).')


def backbone_state_dict(checkpoint,
                        source: str = '<checkpoint>',
                        pretraining_only: bool = False) -> Dict:
    """Return the online backbone weights with the prefix stripped.

    Only the ONLINE backbone is taken, never the momentum target
    (``target_net.*`` / ``module.encoder_k.*``). The classifier ``fc.*`` of
    the official PixPro encoder is dropped (a ResNet backbone has none).

    Args:
        checkpoint (dict): A loaded checkpoint (see :func:`model_state_dict`).
        source (str): Name used in error messages.
        pretraining_only (bool): Refuse everything but (Depth-)PixPro
            pretraining checkpoints. Defaults to False.

    Returns:
        OrderedDict: ``{'conv1.weight': ..., 'layer1.0.conv1.weight': ...}``.

    Raises:
        NotPixProCheckpointError: ``pretraining_only`` and the file is not a
            pretraining checkpoint.
        UnknownLayoutError: no backbone weights recognised.
    """
    try:
        state = model_state_dict(checkpoint, source)
        layout = detect_layout(state, source)
    except UnknownLayoutError as err:
        if pretraining_only:
            raise NotPixProCheckpointError(
                f'{err} Pass the checkpoint written by pretraining.') from err
        raise
    if pretraining_only and not layout.is_pretraining:
        if layout.kind == BACKBONE:
            reason = ('it is a bare backbone state dict (already converted?) '
                      'without "backbone.*" or "module.encoder.*" keys')
        elif layout.kind == SEGMENTOR:
            reason = ('it carries decode_head keys of a segmentation model')
        else:
            reason = ('its backbone has no momentum target (target_net.*) '
                      'beside it: another model, e.g. a classifier')
        raise NotPixProCheckpointError(
            f'{source} is not a DepthPixPro/PixPro checkpoint: {reason}. '
            'Pass the checkpoint written by pretraining with '
            'configs/depth_pixpro_*.py.')
    prefix = layout.prefix
    backbone = OrderedDict(
        (k[len(prefix):], v) for k, v in state.items()
        if str(k).startswith(prefix))
    for key in [k for k in backbone if k.startswith('fc.')]:
        backbone.pop(key)
    return backbone
