"""model-index.yml / configs/metafile.yml (OpenMMLab's model index) agree
with the configs they describe: the same files, schedules, batch sizes,
data, architectures and downstream links."""
import os.path as osp
import re

import pytest
import yaml
from mmengine.config import Config

from helpers import REPO_ROOT
from project_configs import (ABLATIONS, CPU_RECIPES, ENTRY_POINTS,
                             GPU_RECIPES, SEGMENTATION, config_path)

#: Training Data of the metafile, by dataset type of the config.
DATA_NAMES = {
    'SyntheticRGBDDataset': 'Synthetic rooms',
    'SyntheticSceneSegDataset': 'Synthetic rooms',
    'ScanNetRGBDDataset': 'ScanNet v2',
    'ScanNet2DSegDataset': 'ScanNet v2',
    'CityscapesRGBDDataset': 'Cityscapes',
    'CityscapesDataset': 'Cityscapes',
    'NYUv2RGBDDataset': 'NYU Depth v2',
    'NYUv2SegDataset': 'NYU Depth v2',
    'NYUv2Seg13Dataset': 'NYU Depth v2',
}
SEG_HEADS = {'FCNHead': 'FCN', 'UPerHead': 'UPerNet',
             'DepthwiseSeparableASPPHead': 'DeepLabV3+'}
PRETRAINING_FILES = GPU_RECIPES + CPU_RECIPES + ABLATIONS


def _load_yaml(rel_path):
    with open(osp.join(REPO_ROOT, rel_path)) as f:
        return yaml.safe_load(f)


METAFILE = _load_yaml('configs/metafile.yml')
MODELS = {model['Name']: model for model in METAFILE['Models']}
CONFIGS = {}


def _config(rel_path):
    """The config of a metafile ``Config`` path (cached: each is read
    by several tests)."""
    if rel_path not in CONFIGS:
        CONFIGS[rel_path] = Config.fromfile(osp.join(REPO_ROOT, rel_path))
    return CONFIGS[rel_path]


def _training_data(cfg):
    dataset = cfg.train_dataloader.dataset
    name = DATA_NAMES[dataset.type]
    if 'nyuv2_mini' in str(dataset.get('data_root')):
        name += ' (nyuv2_mini)'
    return name


def _default_checkpoint(seg_cfg):
    init_cfg = seg_cfg.model.backbone.get('init_cfg')
    return init_cfg.get('checkpoint') if init_cfg else None


def test_model_index_imports_the_metafile():
    index = _load_yaml('model-index.yml')
    assert index == {'Import': ['configs/metafile.yml']}


def test_metafile_names_every_project_config_once():
    """The lists of tests/project_configs.py (entry points aside: they are
    one-line aliases) and the metafile name the same files."""
    listed = [model['Config'] for model in METAFILE['Models']]
    assert len(listed) == len(set(listed))
    expected = PRETRAINING_FILES + SEGMENTATION
    assert sorted(listed) == sorted(f'configs/{name}' for name in expected)
    for name, model in MODELS.items():
        assert osp.basename(model['Config']) == f'{name}.py'


@pytest.mark.parametrize('name', sorted(MODELS))
def test_metadata_is_the_configs(name):
    model = MODELS[name]
    cfg = _config(model['Config'])
    meta = model['Metadata']
    loop = cfg.train_cfg
    if 'max_epochs' in loop:
        assert meta['Epochs'] == loop.max_epochs and 'Iterations' not in meta
    else:
        assert meta['Iterations'] == loop.max_iters and 'Epochs' not in meta
    processes = int(re.match(r'(\d+)x ', meta['Training Resources'])[1])
    assert meta['Batch Size'] == processes * cfg.train_dataloader.batch_size
    if re.search(r'_(\d+)xb', name):  # mmpretrain's rule: processes x batch
        assert f'_{processes}xb{cfg.train_dataloader.batch_size}-' in name
    assert meta['Training Data'] == _training_data(cfg)
    architecture = [f'ResNet-{cfg.model.backbone.depth}']
    if cfg.default_scope == 'mmseg':
        architecture.append(SEG_HEADS[cfg.model.decode_head.type])
        collection = 'Segmentation transfer'
    else:
        pixpro = not cfg.model.head.filters and len(cfg.model.head.scales) == 1
        collection = 'PixPro' if name.startswith('pixpro_') else 'DepthPixPro'
        assert pixpro == (collection == 'PixPro') or 'depth-off' in name
    assert meta['Architecture'] == architecture
    assert model['In Collection'] == collection
    assert collection in [c['Name'] for c in METAFILE['Collections']]


def _writers():
    """work_dirs/<entry point>/ -> the long name of the config whose run
    writes there (tools/train.py's default work dir)."""
    return {f'work_dirs/{short[:-3]}/': long_name
            for short, long_name in ENTRY_POINTS.items()}


def test_downstream_configs_fine_tune_checkpoints_of_the_same_data():
    """A segmentation config's default checkpoint is the last one an entry
    point's run writes; every pretraining on that data lists it."""
    fine_tuned_data = {}
    for seg_name in SEGMENTATION:
        checkpoint = _default_checkpoint(_config(f'configs/{seg_name}'))
        if checkpoint is None or not checkpoint.startswith('work_dirs/'):
            continue  # random init, or weights the user supplies
        folder, file_name = checkpoint.rsplit('/', 1)
        writer = _writers()[f'{folder}/']
        loop = _config(f'configs/{writer}').train_cfg
        last = (f'epoch_{loop.max_epochs}.pth' if 'max_epochs' in loop
                else f'iter_{loop.max_iters}.pth')
        assert file_name == last, (seg_name, checkpoint)
        data = _training_data(_config(f'configs/{writer}'))
        fine_tuned_data[osp.basename(seg_name)[:-3]] = data
    assert fine_tuned_data
    for name in PRETRAINING_FILES:
        model = MODELS[osp.basename(name)[:-3]]
        data = model['Metadata']['Training Data']
        expected = sorted(seg for seg, seg_data in fine_tuned_data.items()
                          if seg_data == data)
        assert sorted(model.get('Downstream', [])) == expected, name
        for downstream in expected:
            assert MODELS[downstream]['In Collection'] == \
                'Segmentation transfer'


def test_results_are_numbers_with_task_and_dataset():
    measured = [model for model in MODELS.values() if model['Results']]
    assert measured, 'the CPU configs have measured results'
    for model in measured:
        for result in model['Results']:
            assert set(result) == {'Task', 'Dataset', 'Metrics'}, model['Name']
            assert result['Metrics'] and all(
                isinstance(value, (int, float))
                for value in result['Metrics'].values()), model['Name']
        log = model.get('Training Log')
        if log:
            assert osp.isfile(osp.join(REPO_ROOT, log)), log


def _results_table_rows():
    """Config name -> its row of docs/results.md's per-config tables."""
    with open(osp.join(REPO_ROOT, 'docs', 'results.md')) as f:
        section = f.read().split('## Per-config results', 1)[1]
    section = section.split('\n## ', 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r'\| \[([^\]]+)\]\(\.\./([^)]+)\) \|', line)
        if match:
            assert match[1] not in rows, match[1]
            assert match[2] == MODELS[match[1]]['Config'], line
            rows[match[1]] = line
    return rows


def test_per_config_results_table_shows_the_metafile():
    """docs/results.md has one row per metafile model; a measured model's
    row shows its metafile numbers and log."""
    rows = _results_table_rows()
    assert sorted(rows) == sorted(MODELS)
    for name, model in MODELS.items():
        meta = model['Metadata']
        schedule = (f"{meta['Epochs']} epochs" if 'Epochs' in meta else
                    f"{meta['Iterations']} iterations")
        assert f"| {meta['Training Data']} | {schedule} | " \
            f"{meta['Batch Size']} (" in rows[name], name
        for result in model['Results'] or ():
            for value in result['Metrics'].values():
                assert f'{value:g}' in rows[name], (name, value)
        if model.get('Training Log'):
            log = osp.relpath(model['Training Log'], 'docs')
            assert f'({log})' in rows[name], name
        else:
            assert rows[name].endswith('| - |'), name
