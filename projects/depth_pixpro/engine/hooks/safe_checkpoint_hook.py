"""Old import path: ``SafeCheckpointHook`` lives in
:mod:`projects.depth_pixpro.checkpoint.hooks`."""
from ...checkpoint.hooks import (SafeCheckpointHook, decode_message_hub,
                                 encode_message_hub)

__all__ = ['SafeCheckpointHook', 'encode_message_hub', 'decode_message_hub']
