"""Smoke tests of benchmarks/scaling.py and benchmarks/quality.py: their
--dry paths, run plans, config overrides, log parsing, statistics, report,
the linear-probe head, and the script helpers they share
(projects/depth_pixpro/utils/scripts.py); no training is launched."""
import argparse
import json
import math
import os
import os.path as osp

import pytest
import torch
from benchmarks import gpu_check, quality, scaling
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
# quality.py: plan and config overrides
# --------------------------------------------------------------------------
def test_checkpoint_iters_always_ends_with_the_last():
    assert quality.checkpoint_iters(
        dict(eval_every=15, pretrain_iters=30)) == [15, 30]
    assert quality.checkpoint_iters(
        dict(eval_every=10, pretrain_iters=25)) == [10, 20, 25]
    assert quality.checkpoint_iters(
        dict(eval_every=50, pretrain_iters=30)) == [30]


def test_plan_counts_and_names(tmp_path):
    settings = dict(quality.QUICK, seeds=[0, 1], difficulties=[0.3, 0.9])
    pretrains, evals = quality.plan(settings, str(tmp_path))
    assert len(pretrains) == 5 * 2 * 2  # variants x seeds x difficulties
    # per (seed, difficulty): probe of 5 variants x 2 checkpoints + random,
    # fine-tune of the 5 last checkpoints + random
    assert len(evals) == 2 * 2 * ((5 * 2 + 1) + (5 + 1))
    dirs = {run['work_dir'] for run in pretrains + evals}
    assert len(dirs) == len(pretrains) + len(evals)  # no shared work dir
    random_runs = [e for e in evals if e['method'] == 'random']
    assert all(e['checkpoint'] is None and e['pretrain_iter'] == 0
               for e in random_runs)
    for run in evals:
        if run['checkpoint'] is not None:
            assert run['checkpoint'].endswith(
                f"iter_{run['pretrain_iter']}.pth")
            assert f"difficulty_{run['difficulty']:g}" in run['checkpoint']


def test_pretrain_options_merge_into_config():
    for method, path in quality.PRETRAIN_CONFIGS.items():
        cfg = _merged(path, quality.pretrain_options(50, 25, 2, 0.3))
        assert cfg.train_cfg.max_iters == 50
        warm, cosine = cfg.param_scheduler
        assert warm['end'] == cosine['begin'] == 10
        assert cosine['end'] == 50 and cosine['T_max'] == 40
        assert cfg.default_hooks.checkpoint.interval == 25
        assert cfg.default_hooks.checkpoint.max_keep_ckpts == -1
        assert cfg.train_dataloader.dataset.seed == 200_000
        assert cfg.train_dataloader.dataset.difficulty == 0.3
        filters = cfg.model.head.get('filters', [])
        assert (len(filters) > 0) == (method in ('depth_filter',
                                                 'depth_pixpro', 'surface'))
    with pytest.raises(ValueError, match='seed'):
        quality.pretrain_options(50, 25, 100, 0.3)


def _merged_eval_cfg(kind, checkpoint):
    options = quality.eval_options(40, checkpoint, 1, 0.9, 24, 8, '/c')
    return _merged(quality.EVAL_CONFIGS[kind], options)


def test_eval_options_merge_into_configs():
    for kind in quality.EVAL_CONFIGS:
        cfg = _merged_eval_cfg(kind, '/x/iter_30.pth')
        assert cfg.train_cfg.max_iters == cfg.train_cfg.val_interval == 40
        assert cfg.param_scheduler[0]['end'] == 40
        # no checkpoint is written (the result is the final validation)
        assert cfg.default_hooks.checkpoint.interval > 40
        assert cfg.default_hooks.checkpoint.save_last is False
        assert cfg.randomness.seed == 1
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            dataset = cfg[loader].dataset
            assert dataset.difficulty == 0.9 and dataset.cache_dir == '/c'
        assert cfg.train_dataloader.dataset.num_images == 24
        assert cfg.val_dataloader.dataset.num_images == 8
        init = cfg.model.backbone.init_cfg
        assert init.checkpoint == '/x/iter_30.pth'
        assert init.prefix == 'backbone.'
        # train and val scenes stay disjoint
        assert (cfg.train_dataloader.dataset.first_seed + 24 <=
                cfg.val_dataloader.dataset.first_seed)
        assert _merged_eval_cfg(kind, None).model.backbone.init_cfg is None
    probe = _merged_eval_cfg('probe', None).model
    assert probe.decode_head.type == 'LinearProbeHead'
    assert probe.backbone.frozen_stages == 4 and probe.backbone.norm_eval
    assert probe.auxiliary_head is None


def test_linear_probe_trains_only_the_classifier_and_is_linear():
    import projects.depth_pixpro  # noqa: F401  (registers the head)
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = _merged_eval_cfg('probe', None)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {'decode_head.conv_seg.weight',
                         'decode_head.conv_seg.bias'}
    assert not any(m.training for m in model.backbone.modules()
                   if isinstance(m, torch.nn.BatchNorm2d))
    head = model.decode_head
    feats = [torch.randn(2, c, 4, 4) for c in (64, 128, 256, 512)]
    head(feats)  # one training step updates the feature statistics
    head.eval()
    x = feats[3]
    norm = head.feature_norm
    ref = (x - norm.running_mean[None, :, None, None]) / torch.sqrt(
        norm.running_var[None, :, None, None] + norm.eps)
    ref = torch.nn.functional.conv2d(ref, head.conv_seg.weight,
                                     head.conv_seg.bias)
    torch.testing.assert_close(head(feats), ref)
    with pytest.raises(ValueError, match='channels'):
        MODELS.build(dict(cfg.model.decode_head, channels=64))


# --------------------------------------------------------------------------
# quality.py: execution (skips, resume, dry) and report
# --------------------------------------------------------------------------
def test_dry_quick_lists_every_run_and_writes_nothing(capsys, tmp_path):
    out = osp.join(str(tmp_path), 'q')
    assert quality.main(['--quick', '--dry', '--out', out]) is None
    lines = capsys.readouterr().out.strip().splitlines()
    # 2 seeds: 5 pretrainings, probes 5 x 2 + 1, fine-tunes 5 + 1
    assert len(lines) == 2 * (5 + 11 + 6)
    assert all('tools/train.py' in line for line in lines)
    assert not osp.exists(out)


def test_finished_runs_are_skipped_and_partial_pretraining_resumes(
        capsys, tmp_path):
    pretrains, evals = quality.plan(quality.QUICK, str(tmp_path))
    pretrains = done, partial = pretrains[:2]
    os.makedirs(done['work_dir'])
    open(done['final'], 'w').close()
    os.makedirs(partial['work_dir'])
    open(osp.join(partial['work_dir'], 'last_checkpoint'), 'w').close()
    os.makedirs(evals[0]['work_dir'])
    with open(osp.join(evals[0]['work_dir'], 'result.json'), 'w') as f:
        f.write('{}')
    for run in pretrains:
        quality.run_pretrain(run, {}, dry=True)
    for run in evals[:2]:
        quality.run_eval(run, {}, dry=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2  # the resumed pretraining and the 2nd eval
    assert partial['work_dir'] in lines[0] and '--resume' in lines[0]
    assert evals[1]['work_dir'] in lines[1]
    # a finished evaluation is skipped without running anything
    quality.run_eval(evals[0], {}, dry=False)


def test_settings_guard(tmp_path):
    out = str(tmp_path)
    quality.check_settings(out, dict(quality.QUICK))
    assert quality.check_settings(out, dict(quality.QUICK)) == quality.QUICK
    with pytest.raises(SystemExit, match='other settings'):
        quality.check_settings(out, dict(quality.FULL))
    with pytest.raises(SystemExit, match='other settings'):
        quality.check_settings(out, dict(quality.QUICK, seeds=[0, 1, 2]))


def test_settings_merge_arms_added_later(tmp_path):
    out = str(tmp_path)
    two = dict(quality.FULL, methods=['depth_pixpro', 'pixpro'])
    assert quality.check_settings(out, two) == two
    # another arm, otherwise the same experiment: merged, VARIANTS order
    merged = quality.check_settings(
        out, dict(quality.FULL, methods=['surface']))
    assert merged == dict(quality.FULL,
                          methods=['pixpro', 'depth_pixpro', 'surface'])
    with open(osp.join(out, 'settings.json')) as f:
        assert json.load(f) == merged
    # a subset of the arms already there changes nothing
    assert quality.check_settings(
        out, dict(quality.FULL, methods=['pixpro'])) == merged


def test_groups_run_seed_by_seed():
    settings = dict(quality.FULL, seeds=[3, 1], difficulties=[0.9, 0.3])
    pretrains, evals = quality.plan(settings, '/x')
    assert quality.run_groups(pretrains + evals, settings) == [
        (0.9, 3), (0.3, 3), (0.9, 1), (0.3, 1)]


def test_val_metrics_and_iteration_time(tmp_path):
    write_scalars(str(tmp_path), [dict(iter=1, time=4.), dict(mIoU=1.)],
                   '20260101_000000')
    write_scalars(str(tmp_path), [dict(iter=2, time=1.), dict(iter=3,
                                   time=2.), dict(mIoU=7., aAcc=50.)],
                   '20260101_000100')  # a resumed run: newest is last
    records = quality.read_scalars(str(tmp_path))
    assert quality.val_metrics(records)['mIoU'] == 7.
    assert quality.median_iter_time(records) == 2.
    with pytest.raises(ValueError, match='mIoU'):
        quality.val_metrics([dict(iter=1, time=1.)])


def _result(out, difficulty, kind, method, seed, it, miou):
    work_dir = osp.join(out, f'{difficulty}', kind, f'{method}_s{seed}_{it}')
    os.makedirs(work_dir)
    with open(osp.join(work_dir, 'result.json'), 'w') as f:
        json.dump(dict(difficulty=difficulty, eval=kind, method=method,
                       seed=seed, pretrain_iter=it, mIoU=miou, mAcc=0.,
                       aAcc=0., eval_s_per_iter=0.5, wall_s=12.,
                       work_dir=work_dir), f)


def test_report_mean_std_table_csv_and_plot(tmp_path):
    out = str(tmp_path)
    for seed, (a, b, c) in enumerate([(10., 20., 30.), (20., 40., 32.)]):
        for kind in ('probe', 'finetune'):
            _result(out, 0.9, kind, 'random', seed, 0, a)
            _result(out, 0.9, kind, 'pixpro', seed, 15, b - 5)
            _result(out, 0.9, kind, 'pixpro', seed, 30, b)
            _result(out, 0.9, kind, 'depth_pixpro', seed, 30, c)
    summary = quality.summarize(quality.collect(out))
    mean, std, n = summary[(0.9, 'probe', 'pixpro', 30)]
    assert (mean, n) == (30., 2) and std == pytest.approx(math.sqrt(200.))
    table = quality.final_table(quality.collect(out))
    # no boundary mIoU in these results: '-'
    assert '| 0.9 | PixPro | 30 | 30.00 +- 14.14 (n=2) | - |' in table
    assert '| 0.9 | random init | 0 | 15.00 +- 7.07 (n=2) | - |' in table
    assert '31.00 +- 1.41' in table
    settings = dict(quality.QUICK, seeds=[0, 1])
    paths = quality.write_report(out, settings, [], wall_s=60.)
    with open(paths[0]) as f:
        assert len(f.read().strip().splitlines()) == 1 + 16
    with open(paths[2], 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    with open(paths[1]) as f:
        assert '1.0 min' in f.read()


def test_full_run_estimate_is_extrapolated_from_measured_rates():
    settings = dict(seeds=[0], difficulties=[0.5],
                    methods=['pixpro', 'depth_pixpro'], pretrain_iters=20,
                    eval_every=10, probe_iters=10, finetune_iters=4,
                    seg_train=8, seg_val=4)
    pretrain = [dict(wall_s=20., s_per_iter=1., iters=10)]  # fixed 10 s
    rows = [dict(eval='probe', wall_s=7., eval_s_per_iter=0.4, iters=5),
            dict(eval='finetune', wall_s=9., eval_s_per_iter=1., iters=5)]
    # pretrain: 2 x (10 + 20 x 1); probe (every checkpoint): 5 runs x
    # (5 + 10 x 0.4); finetune (last checkpoint): 3 runs x (4 + 4 x 1)
    assert quality.estimate_seconds(settings, pretrain, rows) == \
        pytest.approx(60. + 45. + 24.)
    assert math.isnan(quality.estimate_seconds(settings, [], rows))


def test_clean_checkpoints_keeps_final_and_unevaluated(tmp_path):
    settings = dict(quality.QUICK, seeds=[0])
    pretrains, evals = quality.plan(settings, str(tmp_path))
    first, last = quality.checkpoint_iters(settings)
    for run in pretrains:
        os.makedirs(run['work_dir'])
        for it in (first, last):
            open(osp.join(run['work_dir'], f'iter_{it}.pth'), 'w').close()
    for run in evals:  # every evaluation done but PixPro's first probe
        if not (run['method'] == 'pixpro' and run['pretrain_iter'] == first
                and run['eval'] == 'probe'):
            os.makedirs(run['work_dir'])
            open(osp.join(run['work_dir'], 'result.json'), 'w').close()
    deleted = quality.clean_checkpoints(pretrains, evals)
    assert sorted(osp.relpath(p, str(tmp_path)) for p in deleted) == sorted(
        osp.join('difficulty_0.9', 'pretrain', f'{m}_s0', f'iter_{first}.pth')
        for m in quality.VARIANTS if m != 'pixpro')
    for run in pretrains:
        assert osp.isfile(run['final'])


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
