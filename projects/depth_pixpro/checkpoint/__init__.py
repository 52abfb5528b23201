"""Checkpoints: the one place for loading, saving and reading them.

* :mod:`.loading`: weights-only loading of every local checkpoint (registered
  with mmengine) and the files a user explicitly trusts.
* :mod:`.hooks`: ``SafeCheckpointHook`` (run checkpoints loadable
  weights-only; incomplete loads are errors) and ``AtomicCheckpointHook``;
  ``tools/train.py``/``tools/test.py`` set both up for every run.
* :mod:`.matching`: how much of a model a checkpoint covers.
* :mod:`.resume`: which file a run resumes from, checked before loading.
* :mod:`.layout`: what a checkpoint holds (DepthPixPro, official PixPro,
  segmentation model, bare backbone) and its online backbone weights.
* :mod:`.conversion`: that backbone as an mmseg ResNet file, checked by a
  strict load (the converter tool and ``tools/seg_transfer.py``).
* :mod:`.saving`: atomic ``torch.save`` (``utils/atomic.py``), also as
  mmengine's file backend ``'atomic_local'``.
"""
from .conversion import (DestinationError, check_destination,
                         convert_to_mmseg, infer_resnet_arch,
                         verify_mmseg_resnet)
from .hooks import (AtomicCheckpointHook, SafeCheckpointHook,
                    decode_message_hub, encode_message_hub,
                    ensure_checkpoint_hooks)
from .layout import (CheckpointLayout, NotPixProCheckpointError,
                     UnknownLayoutError, backbone_state_dict, detect_layout,
                     model_state_dict)
from .loading import (CheckpointLoadError, load_checkpoint_file,
                      trusted_checkpoints)
from .matching import (CheckpointMismatchError, KeyMatch,
                       compare_state_dicts)
from .resume import (ResumeError, check_resume_checkpoint,
                     check_resume_model, latest_checkpoint)
from .saving import AtomicLocalBackend, atomic_torch_save

__all__ = [
    'CheckpointLoadError', 'load_checkpoint_file', 'trusted_checkpoints',
    'SafeCheckpointHook', 'AtomicCheckpointHook', 'encode_message_hub',
    'decode_message_hub', 'ensure_checkpoint_hooks',
    'CheckpointMismatchError', 'KeyMatch',
    'compare_state_dicts', 'ResumeError', 'latest_checkpoint',
    'check_resume_checkpoint', 'check_resume_model', 'CheckpointLayout',
    'NotPixProCheckpointError', 'UnknownLayoutError', 'model_state_dict',
    'detect_layout', 'backbone_state_dict', 'atomic_torch_save',
    'AtomicLocalBackend', 'DestinationError', 'check_destination',
    'convert_to_mmseg', 'infer_resnet_arch', 'verify_mmseg_resnet'
]
