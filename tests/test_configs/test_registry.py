"""Every public component builds from a config dict by its registered name."""
import mmengine.registry as engine_registry
import mmseg.registry as seg_registry
import pytest
import torch
from mmengine.registry import DefaultScope, Registry

import mmpretrain.registry as pretrain_registry
from fixtures_rgbd import write_cityscapes, write_scannet


def _registered_here():
    """(registry module name, registry name, class name) of our classes."""
    found = set()
    for module in (pretrain_registry, seg_registry, engine_registry):
        for attr in dir(module):
            registry = getattr(module, attr)
            if not isinstance(registry, Registry) or attr.startswith('MM'):
                continue
            for name, cls in registry.module_dict.items():
                if getattr(cls, '__module__', '').startswith('projects.'):
                    found.add((module.__name__.split('.')[0], attr, name))
    return found


def _configs(tmp_path, nyu_root):
    scannet = tmp_path / 'scannet'
    write_scannet(scannet)
    cityscapes = tmp_path / 'cityscapes'
    write_cityscapes(cityscapes)
    view = [dict(type='RGBDRandomResizedCrop', scale=16),
            dict(type='RGBDRandomFlip')]
    resnet = dict(type='ResNet', depth=18, out_indices=(3, ))
    return {
        ('mmpretrain', 'MODELS', 'DepthPixPro'): dict(
            type='DepthPixPro', backbone=resnet,
            neck=dict(type='PixelProjector', in_channels=[512],
                      hid_channels=32, out_channels=16),
            head=dict(type='MultiScalePixelHead', in_channels=16)),
        ('mmpretrain', 'MODELS', 'PixelProjector'): dict(
            type='PixelProjector', in_channels=8, hid_channels=16,
            out_channels=4),
        ('mmpretrain', 'MODELS', 'PooledPixelProjector'): dict(
            type='PooledPixelProjector', in_channels=8, hid_channels=16,
            out_channels=4),
        ('mmpretrain', 'MODELS', 'MultiScalePixelHead'): dict(
            type='MultiScalePixelHead', in_channels=4,
            filters=[dict(type='DepthPairFilter'),
                     dict(type='NormalPairFilter')]),
        ('mmpretrain', 'MODELS', 'PixelPropagation'): dict(
            type='PixelPropagation', channels=4),
        ('mmpretrain', 'MODELS', 'DepthPairFilter'): dict(
            type='DepthPairFilter', thresh=0.2, mode='absolute'),
        ('mmpretrain', 'MODELS', 'NormalPairFilter'): dict(
            type='NormalPairFilter'),
        ('mmpretrain', 'MODELS', 'SurfacePairFilter'): dict(
            type='SurfacePairFilter', thresh=0.05),
        ('mmpretrain', 'TRANSFORMS', 'LoadDepth'): dict(type='LoadDepth'),
        ('mmseg', 'TRANSFORMS', 'LoadDepth'): dict(type='LoadDepth'),
        ('mmpretrain', 'TRANSFORMS', 'RGBDRandomResizedCrop'): view[0],
        ('mmpretrain', 'TRANSFORMS', 'RGBDRandomFlip'): view[1],
        ('mmpretrain', 'TRANSFORMS', 'RGBDMultiView'): dict(
            type='RGBDMultiView', num_views=[1, 1], transforms=[view, view]),
        ('mmpretrain', 'TRANSFORMS', 'PackRGBDInputs'): dict(
            type='PackRGBDInputs'),
        ('mmpretrain', 'TRANSFORMS', 'RGBDColorJitter'): dict(
            type='RGBDColorJitter', brightness=0.4, hue=0.1),
        ('mmpretrain', 'DATASETS', 'SyntheticRGBDDataset'): dict(
            type='SyntheticRGBDDataset', num_samples=2, img_size=32),
        ('mmpretrain', 'DATASETS', 'ScanNetRGBDDataset'): dict(
            type='ScanNetRGBDDataset', data_root=str(scannet)),
        ('mmpretrain', 'DATASETS', 'CityscapesRGBDDataset'): dict(
            type='CityscapesRGBDDataset', data_root=str(cityscapes)),
        ('mmpretrain', 'DATASETS', 'NYUv2RGBDDataset'): dict(
            type='NYUv2RGBDDataset', data_root=nyu_root),
        ('mmpretrain', 'DATASETS', 'RGBDFolderDataset'): dict(
            type='RGBDFolderDataset', data_root=nyu_root,
            depth_kind='metric'),
        ('mmseg', 'DATASETS', 'ScanNet2DSegDataset'): dict(
            type='ScanNet2DSegDataset', data_root=str(scannet),
            ann_file='scannetv2_train.txt'),
        ('mmseg', 'DATASETS', 'NYUv2Seg13Dataset'): dict(
            type='NYUv2Seg13Dataset', data_root=nyu_root, split=None),
        ('mmseg', 'DATASETS', 'NYUv2SegDataset'): dict(
            type='NYUv2SegDataset', data_root=nyu_root, split=None,
            lazy_init=True),
        ('mmseg', 'DATASETS', 'SyntheticSceneSegDataset'): dict(
            type='SyntheticSceneSegDataset', num_images=2, size=(32, 32),
            cache_dir=str(tmp_path / 'seg_cache')),
        ('mmseg', 'METRICS', 'PerClassIoUMetric'): dict(
            type='PerClassIoUMetric'),
        ('mmseg', 'METRICS', 'BoundaryIoUMetric'): dict(
            type='BoundaryIoUMetric', band=2),
        ('mmpretrain', 'OPTIM_WRAPPER_CONSTRUCTORS',
         'Exclude1DParamsOptimWrapperConstructor'): dict(
            type='Exclude1DParamsOptimWrapperConstructor',
            optim_wrapper_cfg=dict(optimizer=dict(type='SGD', lr=0.1))),
        ('mmpretrain', 'OPTIMIZERS', 'PixProLARS'): dict(
            type='PixProLARS', params=[torch.nn.Parameter(torch.ones(2))],
            lr=0.1),
        ('mmengine', 'HOOKS', 'SafeCheckpointHook'): dict(
            type='SafeCheckpointHook'),
        ('mmengine', 'HOOKS', 'AtomicCheckpointHook'): dict(
            type='AtomicCheckpointHook', interval=1),
        ('mmengine', 'HOOKS', 'PairVisualizationHook'): dict(
            type='PairVisualizationHook'),
        ('mmengine', 'HOOKS', 'CollapseMonitorHook'): dict(
            type='CollapseMonitorHook', threshold=0.05, window=5),
        ('mmengine', 'HOOKS', 'RunSummaryHook'): dict(type='RunSummaryHook'),
        ('mmengine', 'HOOKS', 'DivergenceGuardHook'): dict(
            type='DivergenceGuardHook'),
        ('mmengine', 'HOOKS', 'DepthKindCheckHook'): dict(
            type='DepthKindCheckHook'),
        ('mmengine', 'HOOKS', 'DenseProbeHook'): dict(
            type='DenseProbeHook', interval=10),
        ('mmengine', 'HOOKS', 'SegOverlayHook'): dict(
            type='SegOverlayHook', out_dir=str(tmp_path / 'overlays')),
    }


def test_every_registered_component_builds(tmp_path, nyuv2_mini):
    configs = _configs(tmp_path, nyuv2_mini)
    registered = _registered_here()
    missing = registered - set(configs)
    assert not missing, f'add a build config for {sorted(missing)}'
    modules = dict(mmpretrain=pretrain_registry, mmseg=seg_registry,
                   mmengine=engine_registry)
    for (scope, registry_name, name), cfg in configs.items():
        if (scope, registry_name, name) not in registered:
            pytest.fail(f'{scope}.{registry_name} has no {name}')
        registry = getattr(modules[scope], registry_name)
        with DefaultScope.overwrite_default_scope(
                scope if scope != 'mmengine' else None):
            built = registry.build(dict(cfg))
        assert type(built).__name__ == name
        if registry_name == 'DATASETS' and not cfg.get('lazy_init'):
            assert len(built) >= 1
