"""The converter and the layout detection given what they must refuse: a
folder as destination, diverged weights, a classifier, a segmentor with a
neck (whatever the order of its keys)."""
import itertools

import pytest
import torch

from helpers import load_script
from projects.depth_pixpro.checkpoint import (DestinationError,
                                              NotPixProCheckpointError,
                                              backbone_state_dict,
                                              convert_to_mmseg,
                                              detect_layout)

ONLINE = {'conv1.weight': torch.zeros(1), 'layer1.0.conv1.weight':
          torch.ones(1)}


def _mmlab(*groups):
    """A state dict with ``backbone.*`` and one key per extra prefix."""
    state = {f'backbone.{k}': v for k, v in ONLINE.items()}
    state.update({f'{group}weight': torch.ones(1) for group in groups})
    return state


@pytest.mark.parametrize('groups, kind', [
    # mmseg models: an FPN/UPerNet neck beside the decode heads
    (('neck.fpn_convs.0.conv.', 'decode_head.conv_seg.',
      'auxiliary_head.conv_seg.'), 'segmentor'),
    (('neck.lateral_convs.0.conv.', 'decode_head.conv_seg.'), 'segmentor'),
    # an mmpretrain classifier: a head, a (parameter-free) neck, no target
    (('head.fc.',), 'model'),
    (('neck.gap.', 'head.fc.'), 'model'),
    # a pretraining runner checkpoint: the momentum target
    (('target_net.module.0.conv1.', 'neck.projector.0.',
      'head.propagations.0.'), 'depth_pixpro'),
    (('target_net.module.0.conv1.', ), 'depth_pixpro'),
])
def test_layout_does_not_depend_on_the_order_of_keys(groups, kind):
    state = _mmlab(*groups)
    for order in itertools.permutations(state.items()):
        layout = detect_layout(dict(order))
        assert (layout.kind, layout.prefix) == (kind, 'backbone.')


def test_classifier_and_segmentor_are_not_pretraining_checkpoints():
    with pytest.raises(NotPixProCheckpointError, match='no momentum target'):
        backbone_state_dict({'state_dict': _mmlab('head.fc.')},
                            pretraining_only=True)
    with pytest.raises(NotPixProCheckpointError, match='decode_head'):
        backbone_state_dict(
            {'state_dict': _mmlab('neck.fpn_convs.0.', 'decode_head.x.')},
            pretraining_only=True)
    with pytest.raises(ValueError, match='both a momentum target'):
        detect_layout(_mmlab('target_net.module.0.', 'decode_head.x.'))


def _pretraining_checkpoint(path, poison=None):
    from mmpretrain.models import ResNet
    torch.manual_seed(0)
    online = ResNet(depth=18).state_dict()
    if poison is not None:
        online['layer2.0.bn1.running_var'][3] = poison
    state = {f'backbone.{k}': v for k, v in online.items()}
    state['target_net.module.0.conv1.weight'] = online['conv1.weight']
    torch.save({'state_dict': state, 'meta': dict(iter=2, epoch=0)}, path)


@pytest.mark.parametrize('poison', [float('nan'), float('inf'),
                                    -float('inf')])
def test_converter_refuses_non_finite_weights(tmp_path, capsys, poison):
    src, dst = str(tmp_path / 'pre.pth'), str(tmp_path / 'out.pth')
    _pretraining_checkpoint(src, poison)
    with pytest.raises(ValueError, match='the backbone weight '
                       'layer2.0.bn1.running_var is not a finite number'):
        convert_to_mmseg(src, dst)
    tool = load_script('tools/model_converters/depth_pixpro_to_mmseg.py')
    assert tool.main([src, dst]) == 1
    assert 'not a finite number' in capsys.readouterr().err
    assert not (tmp_path / 'out.pth').exists()


def test_converter_refuses_a_folder_as_destination(tmp_path, capsys):
    src = str(tmp_path / 'pre.pth')
    _pretraining_checkpoint(src)
    folder = tmp_path / 'converted'
    folder.mkdir()
    (folder / 'keep.txt').write_text('kept')
    tool = load_script('tools/model_converters/depth_pixpro_to_mmseg.py')
    for force in ([], ['--force']):
        assert tool.main([src, str(folder)] + force) == 1
        err = capsys.readouterr().err
        assert f'destination {folder} is a folder' in err
        assert f'{folder}/pre_mmseg.pth' in err
    assert (folder / 'keep.txt').read_text() == 'kept'
    with pytest.raises(DestinationError, match='is a folder'):
        convert_to_mmseg(src, str(folder), force=True)
    assert tool.main([src, str(folder / 'pre_mmseg.pth')]) == 0

