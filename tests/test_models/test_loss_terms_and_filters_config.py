"""Model configs that would train on nothing or crash deep inside: every
loss weight 0, a non-filter in the head's filters."""
import pytest
from mmengine.registry import init_default_scope

from mmpretrain.registry import MODELS


def algorithm(scales, **kwargs):
    return dict(
        type='DepthPixPro',
        backbone=dict(type='ResNet', depth=18, base_channels=8,
                      stem_channels=8, out_indices=(3, )),
        neck=dict(type='PixelProjector', in_channels=64, hid_channels=8,
                  out_channels=8),
        head=dict(type='MultiScalePixelHead', in_channels=8, scales=scales,
                  filters=[dict(type='DepthPairFilter')]),
        **kwargs)


@pytest.fixture(autouse=True)
def _pretrain_scope():
    init_default_scope('mmpretrain')  # conftest restores the scope after


def test_every_scale_weight_zero_is_refused():
    zero = [dict(spatial_thresh=0.7, weight=0.),
            dict(spatial_thresh=1.4, weight=0)]
    with pytest.raises(ValueError, match=r'every loss term has weight 0 '
                       r'\(head.scales\[i\].weight = \[0.0, 0.0\]\)'):
        MODELS.build(algorithm(zero))
    # one weighted scale is enough
    model = MODELS.build(algorithm([zero[0], dict(zero[1], weight=0.5)]))
    assert [s['weight'] for s in model.head.scales] == [0., 0.5]


def test_instance_loss_alone_is_a_loss_term():
    instance = dict(
        instance_neck=dict(type='NonLinearNeck', in_channels=64,
                           hid_channels=8, out_channels=8,
                           with_avg_pool=True),
        instance_head=dict(
            type='LatentPredictHead',
            loss=dict(type='CosineSimilarityLoss'),
            predictor=dict(type='NonLinearNeck', in_channels=8,
                           hid_channels=8, out_channels=8,
                           with_avg_pool=False)))
    zero = [dict(spatial_thresh=0.7, weight=0.)]
    MODELS.build(algorithm(zero, **instance))  # BYOL-like: fine
    with pytest.raises(ValueError, match='instance_loss_weight = 0'):
        MODELS.build(algorithm(zero, instance_loss_weight=0., **instance))


@pytest.mark.parametrize('bad', [
    dict(type='ResNet', depth=18),
    dict(type='PixelProjector', in_channels=8, hid_channels=8,
         out_channels=8),
])
def test_head_filter_must_be_a_pair_filter(bad):
    cfg = dict(type='MultiScalePixelHead', in_channels=8,
               filters=[dict(type='DepthPairFilter'), bad])
    with pytest.raises(ValueError, match=f'head filters\\[1\\] is a '
                       f'{bad["type"]}, not a pair filter'):
        MODELS.build(cfg)
