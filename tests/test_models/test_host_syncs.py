"""A DepthPixPro train_step (depth filter + 3 scales) converts at most 4
tensors to Python values: the step must not wait for the device (issue 20:
it made 168 such conversions per step on a GPU, 78 on CPU with ResNet-18)."""
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from benchmarks.step_profile import count_host_syncs
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

#: DepthPixPro as the configs (depth filter, 3 scales), tiny ResNet-18.
MODEL = dict(
    type='DepthPixPro',
    data_preprocessor=dict(type='SelfSupDataPreprocessor',
                           mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
    neck=dict(type='PixelProjector', in_channels=512, hid_channels=32,
              out_channels=16),
    head=dict(type='MultiScalePixelHead', in_channels=16,
              scales=[dict(spatial_thresh=t, weight=1. / 3)
                      for t in (0.7, 1.4, 2.8)],
              filters=[dict(type='DepthPairFilter', thresh=0.1)]))


def _batch(num=4, size=64):
    """uint8 views; crop boxes; depth with a step and holes; the last sample
    without depth (has_depth False: trained as PixPro)."""
    gen = torch.Generator().manual_seed(0)
    views = [torch.randint(0, 256, (num, 3, size, size), generator=gen,
                           dtype=torch.uint8) for _ in range(2)]
    samples = []
    for index in range(num):
        sample = DataSample()
        coord = torch.tensor([[0.1, 0.0, 0.8, 0.7], [0.9, 0.2, 0.3, 1.0]])
        depth = torch.full((2, size, size), 2.) + index
        depth[:, :, size // 2:] *= 1.5
        depth[:, :4] = 0.
        sample.set_field(coord, 'coord')
        sample.set_field(depth, 'depth')
        sample.set_field(index < num - 1, 'has_depth')
        sample.set_field('metric', 'depth_kind')
        samples.append(sample)
    return dict(inputs=views, data_samples=samples)


def test_train_step_makes_at_most_4_host_syncs():
    MessageHub.get_current_instance().update_info('max_iters', 1000)
    torch.manual_seed(0)
    model = MODELS.build(MODEL).train()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01,
                                           momentum=0.9))
    batch = _batch()
    model.train_step(batch, wrapper)  # the first: reads the EMA count once
    for _ in range(2):
        counts = count_host_syncs(lambda: model.train_step(batch, wrapper))
        assert sum(counts.values()) <= 4, counts
