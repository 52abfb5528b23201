"""DenseProbeHook's class count: the train set's classes, shared by the val
set, and covering every label."""

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from helpers import SYNTHETIC_CFG
from mmpretrain.registry import MODELS
from projects.depth_pixpro.engine.hooks import DenseProbeHook
from projects.depth_pixpro.synthetic import CLASSES


@pytest.fixture(scope='module')
def model():
    cfg = Config.fromfile(SYNTHETIC_CFG)
    cfg.model.backbone.update(base_channels=8, stem_channels=8)
    cfg.model.neck.update(in_channels=[64], hid_channels=8, out_channels=8)
    cfg.model.head.in_channels = 8
    cfg.model.data_preprocessor = cfg.data_preprocessor
    torch.manual_seed(0)
    # not init_default_scope: a module fixture's scope would outlive it
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model)


def _scenes(tmp_path, num, first_seed, **kwargs):
    return dict(type='SyntheticSceneSegDataset', num_images=num,
                first_seed=first_seed, size=(32, 32),
                cache_dir=str(tmp_path), pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='LoadAnnotations'),
                    dict(type='PackSegInputs')], **kwargs)


def test_class_count_is_the_train_sets(model, tmp_path):
    hook = DenseProbeHook(train_dataset=_scenes(tmp_path, 4, 0),
                          val_dataset=_scenes(tmp_path, 2, 100))
    miou = hook.probe(model)
    assert hook.num_classes == len(CLASSES)
    assert 0 < miou <= 100
    # a class count that leaves the largest label out is an error, not a
    # probe that silently drops those pixels
    labels = torch.cat([hook.datasets['train'][i]['data_samples']
                        .gt_sem_seg.data for i in range(4)])
    largest = int(labels[labels != 255].max())
    hook.num_classes = largest
    with pytest.raises(ValueError, match=f'SyntheticSceneSegDataset has '
                       f'label {largest} but {largest} classes'):
        hook.probe(model)


def test_val_set_with_other_classes_is_refused(model, tmp_path):
    subset = dict(classes=tuple(CLASSES[:3]))
    hook = DenseProbeHook(
        train_dataset=_scenes(tmp_path, 2, 0),
        val_dataset=_scenes(tmp_path, 2, 100, metainfo=subset))
    with pytest.raises(ValueError, match=f'other classes \\({len(CLASSES)}: '
                       '.* vs 3: '):
        hook.probe(model)
