"""The project's configs, listed by name: the tests read these files only.

A user's own config saved in ``configs/`` is not a project recipe; no test
picks it up. A new project config goes into one of the lists below (and
into the metafile, ``configs/metafile.yml``: ``tests/test_configs/
test_metafile.py`` checks that both name the same files).
"""
import os.path as osp

from helpers import REPO_ROOT

ALGORITHMS = ('depth_pixpro', 'pixpro')
#: Real RGB-D data of the GPU recipes.
RECIPE_DATA = ('scannet', 'cityscapes', 'nyuv2')

#: The ResNet-50 recipes (8 GPUs x 128, LARS, 100 epochs), mmpretrain's
#: naming rule {algorithm}_{backbone}_{gpus}xb{batch}-{optim}-{lr}-{length}_
#: {data}.py.
GPU_RECIPES = [
    f'{algo}_resnet50_8xb128-lars-coslr-100e_{data}.py'
    for algo in ALGORITHMS for data in RECIPE_DATA
]
#: The CPU recipes (ResNet-18, one process x 16, SGD).
CPU_RECIPES = [
    f'{algo}_resnet18_1xb16-sgd-coslr-300iter_synthetic.py'
    for algo in ALGORITHMS
] + ['depth_pixpro_resnet18_1xb16-sgd-coslr-100iter_nyuv2-mini.py']
#: Short names (README) -> the long name they inherit, one ``_base_`` line.
ENTRY_POINTS = {
    f'{algo}_{data}.py': f'{algo}_resnet50_8xb128-lars-coslr-100e_{data}.py'
    for algo in ALGORITHMS for data in RECIPE_DATA
}
ENTRY_POINTS.update({
    f'{algo}_synthetic.py':
    f'{algo}_resnet18_1xb16-sgd-coslr-300iter_synthetic.py'
    for algo in ALGORITHMS
})
ENTRY_POINTS['depth_pixpro_nyuv2-mini.py'] = \
    'depth_pixpro_resnet18_1xb16-sgd-coslr-100iter_nyuv2-mini.py'
#: configs/ablations/: depth_pixpro_scannet_<variant>.py
ABLATIONS = [
    f'ablations/depth_pixpro_scannet_{variant}.py' for variant in (
        'absolute-0.3m', 'c4c5', 'depth-off', 'instance', 'invalid-reject',
        'normalized-0.1', 'normals', 'per-scale-tau', 'single-scale',
        'tau-0.05', 'tau-0.2')
]
#: configs/segmentation/ (mmseg).
SEGMENTATION = [
    f'segmentation/{name}.py' for name in (
        'deeplabv3plus_r50_cityscapes-769x769_40k',
        'deeplabv3plus_r50_cityscapes-769x769_80k',
        'deeplabv3plus_r50_nyuv2-40', 'deeplabv3plus_r50_scannet',
        'fcn_r18_nyuv2-mini_cpu', 'fcn_r18_synthetic_cpu',
        'fcn_r50_cityscapes-769x769_40k',
        'fcn_r50_cityscapes-769x769_40k_imagenet-sup',
        'fcn_r50_cityscapes-769x769_40k_random-init',
        'fcn_r50_cityscapes-769x769_80k', 'fcn_r50_nyuv2-13',
        'fcn_r50_nyuv2-40', 'fcn_r50_nyuv2-40_random-init',
        'fcn_r50_scannet', 'fcn_r50_scannet_imagenet-sup',
        'fcn_r50_scannet_random-init', 'upernet_r50_cityscapes-769x769_40k',
        'upernet_r50_cityscapes-769x769_80k', 'upernet_r50_nyuv2-40',
        'upernet_r50_scannet')
]
#: Every pretraining config (mmpretrain scope).
PRETRAINING = GPU_RECIPES + CPU_RECIPES + sorted(ENTRY_POINTS) + ABLATIONS


def config_path(name: str) -> str:
    """Absolute path of ``configs/<name>``."""
    return osp.join(REPO_ROOT, 'configs', name)


def config_paths(names) -> list:
    """Absolute paths of ``configs/<name>`` for each name."""
    return [config_path(name) for name in names]


def is_gpu_recipe(name: str) -> bool:
    """A ResNet-50 recipe, its entry point or an ablation of it."""
    name = ENTRY_POINTS.get(name, name)
    return name in GPU_RECIPES or name in ABLATIONS
