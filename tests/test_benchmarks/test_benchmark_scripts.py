"""Smoke tests of benchmarks/scaling.py, gpu_check.py and train_step.py:
their --dry paths, run plans, config overrides and log parsing; no training
is launched (quality.py: test_quality.py)."""
import argparse
import math
import os.path as osp

import pytest
import torch
from benchmarks import gpu_check, scaling
from mmengine.config import Config, DictAction

from helpers import REPO_ROOT, write_scalars


# --------------------------------------------------------------------------
# scaling.py
# --------------------------------------------------------------------------
def test_scaling_throughput_median_after_warmup():
    records = [dict(iter=1, time=9.0, data_time=5.), dict(iter=2, time=7.0),
               dict(iter=3, time=1.0, data_time=0.1),
               dict(iter=4, time=5.0, data_time=0.9),
               dict(iter=5, time=2.0, data_time=0.2)]
    out = scaling.throughput(records, warmup=2, nproc=2, batch=8)
    assert out['s_per_iter'] == 2.0  # median (not mean) of 1, 5, 2
    assert out['data_s_per_iter'] == pytest.approx(0.2)
    assert out['images_per_s'] == 2 * 8 / 2.0
    assert out['timed_iters'] == 3
    with pytest.raises(ValueError, match='warm-up'):
        scaling.throughput(records, warmup=5, nproc=1, batch=8)


def test_scaling_table_speedup_and_efficiency():
    rows = [dict(nproc=1, batch=16, s_per_iter=1.0, data_s_per_iter=0.1,
                 images_per_s=16.0, wall_s=30.),
            dict(nproc=2, batch=16, s_per_iter=1.6, data_s_per_iter=0.1,
                 images_per_s=20.0, wall_s=40.)]
    table = scaling.markdown_table(rows).splitlines()
    assert len(table) == 4
    cells = [c.strip() for c in table[3].strip('|').split('|')]
    assert cells[:3] == ['2', '16', '32']
    assert cells[6] == '1.25'  # 20 / 16
    assert cells[7] == '0.62'  # 1.25 / 2 (printed with 2 decimals)


def test_scaling_log_reading(tmp_path):
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        scaling.read_iter_records(str(tmp_path))
    write_scalars(str(tmp_path), [dict(lr=0.1), dict(iter=1, time=0.5),
                                   dict(mIoU=3.0)])
    assert scaling.read_iter_records(str(tmp_path)) == [
        dict(iter=1, time=0.5)]


def test_scaling_dry_commands(capsys, tmp_path, monkeypatch):
    # the CPU plan (gloo); on a 1-GPU machine 2 processes are refused
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert scaling.main(['--quick', '--dry', '--out', str(tmp_path)]) == []
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for nproc, line in zip((1, 2), lines):
        assert f'--nproc_per_node={nproc}' in line
        assert '--launcher pytorch' in line
        assert 'train_cfg.max_iters=12' in line
        assert 'log_processor.window_size=1' in line
        assert osp.join(str(tmp_path), f'nproc{nproc}') in line
    assert not osp.exists(osp.join(str(tmp_path), 'nproc1'))


def _merged(config, options):
    """``config`` with ``--cfg-options`` parsed as tools/train.py does."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(
        parser.parse_args(['--cfg-options', *options]).cfg_options)
    return cfg


# --------------------------------------------------------------------------
# gpu_check.py (its CPU smoke takes ~25 s of CPU: run by hand, not here)
# --------------------------------------------------------------------------
def test_gpu_check_run_summary():
    records = [dict(lr=0.1, step=0),
               dict(loss=-1., feat_std=.9, feat_cos=.1, time=.5,
                    memory=900, step=10),
               dict(loss=-2., feat_std=.8, feat_cos=.2, time=.3,
                    memory=1200, step=20),
               dict(loss=-3., feat_std=.7, feat_cos=.3, time=.4,
                    memory=1100, step=30)]
    summary = gpu_check.run_summary(records)
    assert summary == dict(iteration=30, loss=-3., feat_std=.7, feat_cos=.3,
                           s_per_iter=.4, peak_memory_mib=1200)
    row = gpu_check.summary_table(summary).splitlines()[2]
    assert row == '| 30 | -3.0000 | 0.700 | 0.300 | 0.400 | 1200 |'
    cpu = gpu_check.run_summary([dict(loss=1., time=2., step=1)])
    assert cpu['peak_memory_mib'] is None and math.isnan(cpu['feat_std'])
    assert gpu_check.summary_table(cpu).endswith('| - |')
    with pytest.raises(ValueError, match='no training record'):
        gpu_check.run_summary([dict(lr=0.1)])


def test_gpu_check_recipe_and_cpu_smoke_options():
    recipe = osp.join(REPO_ROOT, gpu_check.RECIPE)
    cfg = Config.fromfile(recipe)
    loader = cfg.train_dataloader
    assert loader.batch_size == 64 and loader.dataset.img_size == 224
    assert loader.dataset.num_samples // loader.batch_size == 200
    assert cfg.train_cfg.max_epochs == 1
    assert cfg.param_scheduler[-1]['end'] == 200
    assert cfg.model.backbone.depth == 50
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    assert cfg.optim_wrapper.optimizer.type == 'PixProLARS'
    assert cfg.auto_scale_lr.enable and cfg.auto_scale_lr.base_batch_size \
        == 1024
    views = loader.dataset.pipeline[0]
    assert views.type == 'RGBDMultiView'
    assert [t[0]['scale'] for t in views.transforms] == [224, 224]
    small = _merged(recipe, gpu_check.CPU_RUN_OPTIONS)
    views = small.train_dataloader.dataset.pipeline[0]
    assert [t[0]['scale'] for t in views.transforms] == [64, 64]
    assert small.train_dataloader.dataset.img_size == 64
    assert small.train_dataloader.batch_size == 2
    assert small.model.head.in_channels == small.model.neck.out_channels


# --------------------------------------------------------------------------
# train_step.py: the variants it times
# --------------------------------------------------------------------------
def test_train_step_variants_differ_only_in_their_pair_tests():
    import projects.depth_pixpro  # noqa: F401
    from mmpretrain.registry import MODELS

    from benchmarks import train_step
    three = [0.7, 1.4, 2.8]
    expected = dict(
        a=([], [0.7]), i=([], three),
        c=([('DepthPairFilter', 'mean')], three),
        f=([('DepthPairFilter', 'median')], three),
        g=([('DepthPairFilter', 'center')], three),
        h=([('SurfacePairFilter', None)], three))
    for variant, (filters, scales) in expected.items():
        model = MODELS.build(train_step.variant_cfg(variant, 'resnet18',
                                                    16, 8))
        head = model.head
        got = [(type(f).__name__, getattr(f, 'pool', None))
               for f in head.filters]
        assert got == filters, variant
        assert [s['spatial_thresh'] for s in head.scales] == scales, variant
    surface = MODELS.build(train_step.variant_cfg('h', 'resnet18', 16, 8))
    assert surface.head.filters[0].thresh == 0.05
    assert set(train_step.LABELS) == set(train_step.VARIANTS)
