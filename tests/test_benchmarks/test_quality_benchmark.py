"""benchmarks/quality.py: the paired statistics on hand-made numbers (exact
t), the pairing of results by seed, and the plan (variants x seeds x
difficulties, the configs and evaluations each variant gets). No training
is launched."""
import json
import math
import os
import os.path as osp

import pytest
from benchmarks import quality
from mmengine.config import Config


def test_paired_stats_exact_t():
    # mean 2, squared deviations 9 + 0 + 1 + 4 = 14, variance 14 / 3,
    # t = 2 / sqrt(14 / 3 / 4) = 2 sqrt(6 / 7)
    s = quality.paired_stats([-1., 2., 3., 4.])
    assert s['mean'] == 2. and s['n'] == 4 and s['positive'] == 3
    assert s['std'] == pytest.approx(math.sqrt(14 / 3), rel=1e-12)
    assert s['t'] == pytest.approx(2 * math.sqrt(6 / 7), rel=1e-12)
    stats = pytest.importorskip('scipy.stats')
    a, b = [10., 12., 13., 20.], [11., 10., 10., 16.]  # a - b as above
    ref = stats.ttest_rel(a, b)
    assert s['t'] == pytest.approx(ref.statistic, rel=1e-12)
    assert s['p'] == pytest.approx(ref.pvalue, rel=1e-9)


def test_paired_stats_degenerate():
    one = quality.paired_stats([1.5])
    assert one['std'] == 0. and math.isnan(one['t']) and math.isnan(one['p'])
    same = quality.paired_stats([0.5, 0.5, 0.5])
    assert same['t'] == math.inf and same['positive'] == 3
    assert same['p'] == pytest.approx(0.)
    zero = quality.paired_stats([0., 0.])
    assert math.isnan(zero['t']) and zero['positive'] == 0


def _row(method, seed, miou, boundary=None, it=30, kind='probe', d=0.9):
    return dict(difficulty=d, eval=kind, method=method, seed=seed,
                pretrain_iter=it, mIoU=miou, boundary_mIoU=boundary,
                wall_s=1.)


def test_paired_differences_pair_by_seed_and_iteration():
    rows = [
        _row('pixpro', 0, 10., 5.), _row('pixpro', 1, 12., 6.),
        _row('pixpro', 2, 11.),  # seed 2: no variant result
        _row('depth_pixpro', 0, 13., 4.), _row('depth_pixpro', 1, 11., 9.),
        _row('surface', 1, 20.), _row('surface', 3, 1.),  # seed 3: no ref
        _row('depth_pixpro', 0, 50., it=10),  # no PixPro at iteration 10
        _row('random', 0, 1., it=0),
    ]
    diffs = quality.paired_differences(rows)
    assert diffs == {(0.9, 'probe', 'depth_pixpro', 30): ([0, 1], [3., -1.]),
                     (0.9, 'probe', 'surface', 30): ([1], [8.])}
    # boundary mIoU: rows without it are left out
    assert quality.paired_differences(rows, 'boundary_mIoU') == {
        (0.9, 'probe', 'depth_pixpro', 30): ([0, 1], [-1., 3.])}
    table = quality.paired_table(rows)
    # mean +1, std sqrt(8), t = 1 / (sqrt(8) / sqrt(2)) = 0.5
    assert ('| 0.9 | probe | mIoU | DepthPixPro (filter + 3 scales) | '
            '+1.00 +- 2.83 | 0.50 |') in table
    assert '| 1/2 | +3.00, -1.00 |' in table


def _merged(path):
    return Config.fromfile(path)


def test_variant_configs_differ_only_in_the_positive_pairs():
    heads = {m: _merged(p).model.head
             for m, p in quality.PRETRAIN_CONFIGS.items()}
    expected = dict(  # (filter types, spatial thresholds)
        pixpro=([], [0.7]),
        multiscale=([], [0.7, 1.4, 2.8]),
        depth_filter=(['DepthPairFilter'], [0.7]),
        depth_pixpro=(['DepthPairFilter'], [0.7, 1.4, 2.8]),
        surface=(['SurfacePairFilter'], [0.7, 1.4, 2.8]))
    assert set(heads) == set(expected) == set(quality.VARIANTS)
    for method, (filters, threshs) in expected.items():
        head = heads[method]
        assert [f['type'] for f in head.get('filters', [])] == filters
        assert [s['spatial_thresh'] for s in head.scales] == threshs
        assert sum(s['weight'] for s in head.scales) == pytest.approx(1.)
    assert heads['depth_filter'].filters == heads['depth_pixpro'].filters
    assert heads['surface'].filters[0]['thresh'] == 0.05
    # everything but the head is the same in every variant
    base = _merged(quality.PRETRAIN_CONFIGS['pixpro'])
    for path in quality.PRETRAIN_CONFIGS.values():
        cfg = _merged(path)
        for key in ('optim_wrapper', 'train_dataloader', 'param_scheduler',
                    'randomness', 'train_cfg'):
            assert cfg[key] == base[key], (path, key)
        assert dict(cfg.model, head=None) == dict(base.model, head=None)


def test_eval_configs_report_boundary_miou():
    for path in quality.EVAL_CONFIGS.values():
        cfg = _merged(path)
        assert cfg.val_evaluator.type == 'BoundaryIoUMetric'
        assert cfg.val_evaluator.band == 3
        assert cfg.test_evaluator == cfg.val_evaluator


def test_full_defaults_have_power():
    assert len(quality.FULL['seeds']) >= 5
    assert quality.FULL['seg_val'] >= 256
    assert quality.FULL['methods'] == list(quality.VARIANTS)
    assert len(quality.QUICK['seeds']) >= 2  # the paired table has a std


def test_plan_variants_seeds_difficulties(tmp_path):
    settings = dict(quality.FULL, seeds=[0, 1, 2], difficulties=[0.3, 0.9])
    pretrains, evals = quality.plan(settings, str(tmp_path))
    n_variants = len(quality.VARIANTS)
    assert len(pretrains) == n_variants * 3 * 2
    by_config = {}
    for run in pretrains:
        by_config.setdefault(run['config'], []).append(run)
    assert set(by_config) == set(quality.PRETRAIN_CONFIGS.values())
    assert all(len(runs) == 3 * 2 for runs in by_config.values())
    iters = quality.checkpoint_iters(settings)
    assert iters == [100, 200, 300]
    for difficulty in (0.3, 0.9):
        for seed in (0, 1, 2):
            mine = [e for e in evals if e['difficulty'] == difficulty
                    and e['seed'] == seed]
            for method in quality.VARIANTS:
                probe = sorted(e['pretrain_iter'] for e in mine if e[
                    'method'] == method and e['eval'] == 'probe')
                tune = [e['pretrain_iter'] for e in mine if e[
                    'method'] == method and e['eval'] == 'finetune']
                assert probe == iters and tune == [300]  # curve: probe only
            random = [e for e in mine if e['method'] == 'random']
            assert sorted(e['eval'] for e in random) == ['finetune', 'probe']
            assert all(e['seg_val'] == 256 for e in mine)
            # the variants of one seed share its scenes (and crops)
            seeds = {r['options'][-2] for r in pretrains
                     if f'_s{seed}' in r['work_dir']}
            assert seeds == {f'train_dataloader.dataset.seed={seed * 100000}'}
    assert len(evals) == 3 * 2 * (n_variants * 3 + 1 + n_variants + 1)

    # a subset of the variants
    subset = dict(settings, methods=['depth_pixpro', 'pixpro'])
    pretrains, evals = quality.plan(subset, str(tmp_path))
    assert {osp.basename(r['config']) for r in pretrains} == {
        'pixpro_r18_synthetic.py', 'depth_pixpro_r18_synthetic.py'}
    assert {e['method'] for e in evals} == {'random', 'pixpro',
                                            'depth_pixpro'}
    args = quality.parse_args(['--methods', 'pixpro', 'surface'])
    assert quality.settings_from_args(args)['methods'] == ['pixpro',
                                                           'surface']
    with pytest.raises(SystemExit):
        quality.parse_args(['--methods', 'unknown'])


def test_estimate_scales_validation_with_its_images():
    settings = dict(seeds=[0], difficulties=[0.5], methods=['pixpro'],
                    pretrain_iters=10, eval_every=10, probe_iters=10,
                    finetune_iters=10, seg_train=8, seg_val=100)
    pretrain = [dict(wall_s=15., s_per_iter=1., iters=10)]  # fixed 5 s
    # measured with 10 validation images at 0.5 s: fixed 20 - 4 - 5 = 11 s
    rows = [dict(eval=kind, wall_s=20., eval_s_per_iter=0.4, iters=10,
                 val_s_per_img=0.5, seg_val=10)
            for kind in ('probe', 'finetune')]
    # 1 pretraining (5 + 10); per kind 2 runs x (11 + 10 x 0.4 + 100 x 0.5)
    assert quality.estimate_seconds(settings, pretrain, rows) == \
        pytest.approx(15. + 2 * 2 * 65.)


def test_report_has_paired_and_boundary_tables(tmp_path):
    out = str(tmp_path)
    for seed, (p, d) in enumerate([(10., 11.), (20., 23.)]):
        for method, value in (('pixpro', p), ('depth_pixpro', d),
                              ('random', 5.)):
            it = 0 if method == 'random' else 20
            work_dir = osp.join(out, 'probe', f'{method}_s{seed}')
            os.makedirs(work_dir)
            with open(osp.join(work_dir, 'result.json'), 'w') as f:
                json.dump(dict(_row(method, seed, value, value / 2, it=it),
                               eval_s_per_iter=.1, work_dir=work_dir), f)
    paths = quality.write_report(out, dict(quality.QUICK), [], wall_s=None)
    with open(paths[1]) as f:
        text = f.read()
    assert ('| 0.9 | DepthPixPro (filter + 3 scales) | 20 | 17.00 +- 8.49 '
            '(n=2) | 8.50 +- 4.24 (n=2) |') in text
    # differences +1, +3: mean 2, std sqrt(2), t = 2 / (sqrt(2) / sqrt(2))
    assert ('| 0.9 | probe | mIoU | DepthPixPro (filter + 3 scales) | '
            '+2.00 +- 1.41 | 2.00 |') in text
    assert ('| 0.9 | probe | boundary mIoU | DepthPixPro (filter + 3 '
            'scales) | +1.00 +- 0.71 | 2.00 |') in text
    with open(paths[0]) as f:
        header = f.readline()
    assert 'boundary_mIoU' in header


def test_runs_go_one_seed_at_a_time(capsys, tmp_path):
    """Pretrainings then evaluations of one (difficulty, seed) before the
    next, so --clean-checkpoints bounds the disk to one group."""
    quality.main(['--quick', '--dry', '--out', str(tmp_path / 'q')])
    lines = capsys.readouterr().out.strip().splitlines()
    per_seed = len(quality.VARIANTS) + (len(quality.VARIANTS) * 2 + 1) + (
        len(quality.VARIANTS) + 1)
    assert len(lines) == 2 * per_seed
    for seed, group in enumerate((lines[:per_seed], lines[per_seed:])):
        work_dirs = [line.split('--work-dir ')[1].split()[0]
                     for line in group]
        kinds = [w.split(os.sep)[-2] for w in work_dirs]
        n = len(quality.VARIANTS)
        assert kinds[:n] == ['pretrain'] * n
        assert set(kinds[n:]) == {'probe', 'finetune'}
        assert all(f'_s{seed}' in osp.basename(w) for w in work_dirs)
