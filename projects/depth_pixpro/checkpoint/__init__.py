"""Checkpoints: the one place for loading, saving and reading them.

* :mod:`.loading`: weights-only loading of every local checkpoint (registered
  with mmengine) and the files a user explicitly trusts.
* :mod:`.hooks`: ``SafeCheckpointHook``, which makes run checkpoints loadable
  weights-only; ``tools/train.py``/``tools/test.py`` add it to every run.
* :mod:`.layout`: what a checkpoint holds (DepthPixPro, official PixPro,
  segmentation model, bare backbone) and its online backbone weights.
* :mod:`.saving`: atomic writing (temporary file + ``os.replace``).
"""
from .hooks import (SafeCheckpointHook, decode_message_hub,
                    encode_message_hub, ensure_safe_checkpoint_hook)
from .layout import (CheckpointLayout, NotPixProCheckpointError,
                     UnknownLayoutError, backbone_state_dict, detect_layout,
                     model_state_dict)
from .loading import (CheckpointLoadError, load_checkpoint_file,
                      trusted_checkpoints)
from .saving import atomic_torch_save, atomic_write_bytes

__all__ = [
    'CheckpointLoadError', 'load_checkpoint_file', 'trusted_checkpoints',
    'SafeCheckpointHook', 'encode_message_hub', 'decode_message_hub',
    'ensure_safe_checkpoint_hook', 'CheckpointLayout',
    'NotPixProCheckpointError', 'UnknownLayoutError', 'model_state_dict',
    'detect_layout', 'backbone_state_dict', 'atomic_write_bytes',
    'atomic_torch_save'
]
