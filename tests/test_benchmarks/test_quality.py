"""benchmarks/quality.py: the arms, the run options, the results file and
its resume, the report's statistics and wording, the generated blocks of
the docs (their numbers equal the committed csv), and one real smoke run
(a pretraining of a few iterations, scored)."""
import argparse
import glob
import json
import math
import os
import os.path as osp

import pytest
from benchmarks import quality
from mmengine.config import Config, DictAction

from helpers import REPO_ROOT
from projects.depth_pixpro.evaluation.paired_stats import paired_summary


def _config(arm, options=()):
    cfg = Config.fromfile(osp.join(quality.CONFIG_DIR, quality.ARMS[arm][1]))
    if options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        cfg.merge_from_dict(
            parser.parse_args(['--cfg-options', *options]).cfg_options)
    return cfg


def test_arms_differ_only_in_the_positive_pairs():
    expected = dict(  # (filter types, spatial thresholds)
        pixpro=([], [0.7]),
        multiscale=([], [0.7, 1.4, 2.8]),
        depth_pixpro=(['DepthPairFilter'], [0.7, 1.4, 2.8]),
        surface=(['SurfacePairFilter'], [0.7, 1.4, 2.8]))
    assert list(quality.ARMS) == list(expected) == quality.PROTOCOL['arms']
    base = _config('pixpro')
    for arm, (filters, thresholds) in expected.items():
        cfg = _config(arm)
        head = cfg.model.head
        assert [f['type'] for f in head.get('filters', [])] == filters
        assert [s['spatial_thresh'] for s in head.scales] == thresholds
        assert sum(s['weight'] for s in head.scales) == pytest.approx(1.)
        for key in ('optim_wrapper', 'train_dataloader', 'param_scheduler',
                    'randomness', 'train_cfg', 'data_preprocessor'):
            assert cfg[key] == base[key], (arm, key)
        assert dict(cfg.model, head=None) == dict(base.model, head=None)
    assert _config('depth_pixpro').model.head.filters[0]['mode'] == \
        'relative'
    assert _config('surface').model.head.filters[0]['thresh'] == 0.05
    # the comparisons name arms that exist
    for arm_a, arm_b, _ in quality.COMPARISONS:
        assert {arm_a, arm_b} <= set(quality.ARMS)


def test_pretraining_options_merge_into_every_arm():
    protocol = dict(quality.PROTOCOL, pretrain_iters=400, difficulty=0.7)
    for arm in quality.ARMS:
        cfg = _config(arm, quality.pretrain_options(protocol, 3))
        assert cfg.train_cfg.max_iters == 400
        warm, cosine = cfg.param_scheduler
        assert warm['end'] == cosine['begin'] == 20
        assert cosine['end'] == 400 and cosine['T_max'] == 380
        assert cfg.default_hooks.checkpoint.interval == 100
        assert cfg.randomness.seed == 3
        assert cfg.train_dataloader.dataset.seed == 300_000
        assert cfg.train_dataloader.dataset.difficulty == 0.7
        # narrow ResNet-18 at output stride 8: 8x8 grids of 64-px views
        backbone = cfg.model.backbone
        assert backbone.depth == 18 and backbone.base_channels == 16
        assert backbone.strides == (1, 2, 1, 1)
        assert cfg.model.neck.in_channels == [8 * backbone.base_channels]
    with pytest.raises(ValueError, match='seed'):
        quality.pretrain_options(protocol, 100)


def _rows():
    """Hand-made results: 4 seeds; surface - multiscale = +1, +2, +3, +2;
    depth_pixpro - multiscale = 0, 0, +1, -1; multiscale - pixpro = +4."""
    rows = []
    for arm, miou in (('position_prior', 15.), ('oracle', 80.)):
        rows += quality.metric_rows(
            quality.PROTOCOL, arm, None,
            {arm: dict(mIoU=miou, boundary_mIoU=miou / 2, IoU=[miou] * 7)},
            pretrain_iters=0)
    base = dict(random=10., pixpro=20., multiscale=24., depth_pixpro=24.,
                surface=24.)
    shift = dict(surface=[1, 2, 3, 2], depth_pixpro=[0, 0, 1, -1])
    for seed in range(4):
        for arm, value in base.items():
            value += shift.get(arm, [0] * 4)[seed] + 0.5 * seed
            scores = dict(
                ridge=dict(mIoU=value, boundary_mIoU=value - 5,
                           IoU=[value] * 7),
                knn=dict(mIoU=value - 1, boundary_mIoU=value - 6,
                         IoU=[value - 1] * 7))
            rows += quality.metric_rows(
                quality.PROTOCOL, arm, seed, scores, device='cpu',
                pretrain_iters=0 if arm == 'random' else 2000,
                s_per_iter=0.3, final_loss=-2.5, pretrain_wall_s=600.,
                eval_wall_s=20.)
    return rows


def test_results_csv_round_trip(tmp_path):
    path = str(tmp_path / 'results.csv')
    rows = _rows()
    quality.write_rows(path, rows[::-1])  # any order in, sorted out
    back = quality.read_rows(path)
    assert len(back) == len(rows)
    assert [(r['arm'], r['seed'], r['readout']) for r in back][:4] == [
        ('position_prior', None, 'position_prior'),
        ('oracle', None, 'oracle'), ('random', 0, 'knn'),
        ('random', 0, 'ridge')]
    surface = [r for r in back if r['arm'] == 'surface' and r['seed'] == 2
               and r['readout'] == 'ridge'][0]
    assert surface['mIoU'] == pytest.approx(28.)
    assert surface['IoU'] == [pytest.approx(28.)] * 7
    assert surface['pretrain_iters'] == 2000
    assert math.isnan(back[0]['s_per_iter'])


def test_todo_is_seed_major_and_skips_finished_runs():
    protocol = dict(quality.PROTOCOL, arms=['pixpro', 'surface'])
    rows = [dict(arm='pixpro', seed=1), dict(arm='random', seed=0)]
    assert quality.todo(protocol, [0, 1], rows) == [
        ('pixpro', 0), ('surface', 0), ('random', 1), ('surface', 1)]
    # --arms: a subset now, in the same order
    assert quality.todo(protocol, [0, 1], rows, ['surface']) == [
        ('surface', 0), ('surface', 1)]


def test_pretraining_renders_the_labelled_scenes_options():
    # position alone must not tell the classes in the pretraining rooms
    # either: the arms' rooms are rendered with the protocol's options
    from mmengine.config import Config
    for arm, (_, config) in quality.ARMS.items():
        cfg = Config.fromfile(osp.join(quality.CONFIG_DIR, config))
        options = cfg.train_dataloader.dataset.render_options
        assert {k: list(v) for k, v in options.items()} == \
            quality.PROTOCOL['render_options'], arm


def test_a_results_folder_holds_one_protocol(tmp_path):
    out = str(tmp_path / 'r')
    first = quality.check_protocol(out, dict(quality.QUICK, seeds=[0, 1]))
    assert first['seeds'] == [0, 1]
    # more seeds: the union is kept
    assert quality.check_protocol(out, dict(quality.QUICK, seeds=[3]))[
        'seeds'] == [0, 1, 3]
    with open(osp.join(out, 'settings.json')) as f:
        assert json.load(f)['seeds'] == [0, 1, 3]
    with pytest.raises(SystemExit, match='another protocol'):
        quality.check_protocol(out, dict(quality.QUICK, pretrain_iters=7))


def test_comparisons_are_paired_and_holm_corrected():
    stats = {(s['arm_a'], s['arm_b']): s
             for s in quality.comparison_stats(_rows())}
    surface = stats[('surface', 'multiscale')]
    assert surface['diffs'] == pytest.approx([1., 2., 3., 2.])
    ref = paired_summary([1., 2., 3., 2.])
    assert surface['p'] == pytest.approx(ref['p'])
    assert (surface['ci_low'], surface['ci_high']) == (
        pytest.approx(ref['ci_low']), pytest.approx(ref['ci_high']))
    depth = stats[('depth_pixpro', 'multiscale')]
    assert depth['mean'] == pytest.approx(0.)
    scales = stats[('multiscale', 'pixpro')]
    assert scales['t'] == math.inf and scales['p'] == 0.
    # Holm over 3: the smallest p x 3, the next x 2 (monotone), the last x 1
    ps = sorted(s['p'] for s in stats.values())
    adjusted = sorted(s['p_holm'] for s in stats.values())
    assert adjusted == pytest.approx(
        [3 * ps[0], max(3 * ps[0], 2 * ps[1]),
         max(3 * ps[0], 2 * ps[1], ps[2])])


def test_report_wording_and_tables():
    rows = _rows()
    stats = quality.comparison_stats(rows)
    complete = dict(quality.PROTOCOL, seeds=[0, 1, 2, 3])
    assert quality.status_line(rows, complete).startswith('Complete')
    table = quality.comparisons_table(stats, complete)
    depth_line = [line for line in table.splitlines()
                  if 'depth_pixpro - multiscale' in line][0]
    assert 'not detected (95 % CI [' in depth_line
    assert 'no effect' not in table
    surface_line = [line for line in table.splitlines()
                    if 'surface - multiscale' in line][0]
    assert '+2.00 +- 0.82' in surface_line and '4/4' in surface_line
    scores = quality.scores_table(rows)
    assert '| position-only prior | 15.00 | 7.50 | - | - |' in scores
    assert '| random init | 10.75 +- 0.65 | 5.75 +- 0.65 | 9.75 +- 0.65 ' \
        '| 4 |' in scores
    headroom = quality.headroom_lines(rows, quality.PROTOCOL)
    assert 'PixPro - random init (same seed): +10.00 +- 0.00' in headroom
    assert 'bar >= +10: met' in headroom
    assert 'PixPro - position-only prior: +5.75' in headroom
    assert 'bar >= +8: not met' in headroom
    per_seed = quality.per_seed_table(rows)
    assert per_seed.splitlines()[2] == \
        '| 0 | 10.00 | 20.00 | 24.00 | 24.00 | 25.00 |'


def test_interim_results_say_so_and_give_no_verdict():
    # 4 of the protocol's 14 seeds: interim, whatever the p-values
    rows = _rows()
    assert len(quality.PROTOCOL['seeds']) == 14
    status = quality.status_line(rows, quality.PROTOCOL)
    assert status.startswith('**Interim: 4 of the 14 preregistered seeds')
    table = quality.comparisons_table(quality.comparison_stats(rows),
                                      quality.PROTOCOL)
    assert table.count('interim (4 of 14 seeds)') == 3
    assert 'detected' not in table
    # one seed: no interval, no p (not "nan")
    one = [r for r in rows if r['seed'] in (None, 0)]
    text = quality.summary_block(one, quality.PROTOCOL)
    assert 'nan' not in text
    assert '+- - | - | - | - | 1/1 | interim (1 of 14 seeds)' in text
    assert quality.power_lines(quality.comparison_stats(one),
                               quality.PROTOCOL) == \
        '(fewer than 2 paired seeds)'


def test_running_some_seeds_keeps_the_planned_ones(tmp_path, capsys):
    results = str(tmp_path / 'r')
    quality.main(['--results', results, '--seeds', '0', '--dry'])
    assert capsys.readouterr().out.splitlines()[0] == 'random seed 0'
    with open(osp.join(results, 'settings.json')) as f:
        assert json.load(f)['seeds'] == quality.PROTOCOL['seeds']
    # a seed beyond the plan joins it
    quality.main(['--results', results, '--seeds', '20', '--dry'])
    with open(osp.join(results, 'settings.json')) as f:
        assert json.load(f)['seeds'] == quality.PROTOCOL['seeds'] + [20]


def test_report_writes_markdown_plot_and_the_generated_block(tmp_path):
    results = str(tmp_path / '2026-01-01-quality-test')
    quality.check_protocol(results, dict(quality.PROTOCOL))
    quality.write_rows(osp.join(results, 'results.csv'), _rows())
    text = quality.report(results, quality.PROTOCOL)
    assert '## Preregistered comparisons' in text
    assert osp.getsize(osp.join(results, 'quality.png')) > 0
    doc = tmp_path / 'doc.md'
    begin, end = quality.block_markers(results)
    doc.write_text(f'intro\n{begin}\nold numbers\n{end}\noutro\n')
    assert quality.update_block(str(doc), results,
                                quality.generated_block(results))
    new = doc.read_text()
    assert new.startswith('intro\n') and new.endswith('\noutro\n')
    assert 'old numbers' not in new
    assert quality.scores_table(_rows()) in new
    other = tmp_path / 'other.md'
    other.write_text('no block here\n')
    assert not quality.update_block(str(other), results, 'x')


def test_committed_results_equal_the_generated_blocks_of_the_docs():
    """Every block generated from a committed results.csv in the docs is
    exactly what the csv gives today (edit the csv, not the numbers)."""
    folders = sorted(glob.glob(osp.join(REPO_ROOT, 'benchmarks', 'results',
                                        '*', 'results.csv')))
    checked = 0
    for csv_path in folders:
        results = osp.dirname(csv_path)
        begin, end = quality.block_markers(results)
        block = quality.generated_block(results)
        for doc in quality.DOC_FILES:
            path = osp.join(REPO_ROOT, doc)
            if not osp.isfile(path):
                continue
            with open(path) as f:
                text = f.read()
            if begin not in text:
                continue
            body = text.split(begin, 1)[1].split(end, 1)[0]
            assert body.strip('\n') == block.strip('\n'), (doc, results)
            checked += 1
    if folders:
        assert checked, 'committed results that no doc shows'


def test_generated_blocks_live_only_in_the_files_report_updates():
    """A generated block moved to another markdown file (or a file of
    DOC_FILES moved) would no longer be updated by --report."""
    for doc in quality.DOC_FILES:
        assert osp.isfile(osp.join(REPO_ROOT, doc)), doc
    marker = '<!-- generated by benchmarks/quality.py --report'
    holders = set()
    for root, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if not d.startswith('.')
                   and d not in ('work_dirs', 'data', 'build')]
        for name in files:
            if name.endswith('.md'):
                with open(osp.join(root, name)) as f:
                    if marker in f.read():
                        holders.add(osp.relpath(osp.join(root, name),
                                                REPO_ROOT))
    assert holders <= set(quality.DOC_FILES), holders - set(quality.DOC_FILES)


@pytest.mark.slow
def test_quick_run_pretrains_scores_and_resumes(tmp_path, capsys):
    protocol = dict(quality.QUICK, arms=['pixpro'], seeds=[0],
                    seg_train=4, seg_val=4, pretrain_iters=2,
                    pixels_per_image=32, knn_k=3, knn_bank_per_image=8)
    results = str(tmp_path / 'res')
    quality.check_protocol(results, protocol)
    rows = quality.run_experiment(protocol, [0], results,
                                  str(tmp_path / 'wd'), jobs=1, threads=1,
                                  device='cpu')
    got = {(r['arm'], r['seed'], r['readout']) for r in rows}
    assert got == {('position_prior', None, 'position_prior'),
                   ('oracle', None, 'oracle'),
                   ('random', 0, 'ridge'), ('random', 0, 'knn'),
                   ('pixpro', 0, 'ridge'), ('pixpro', 0, 'knn')}
    pixpro = [r for r in rows if r['arm'] == 'pixpro'][0]
    assert pixpro['pretrain_iters'] == 2 and pixpro['pretrain_wall_s'] > 0
    assert 0 <= pixpro['mIoU'] <= 100
    # checkpoints deleted once scored; the scenes stay cached
    assert not osp.exists(str(tmp_path / 'wd' / 'pixpro_s0'))
    assert glob.glob(str(tmp_path / 'wd' / 'scene_cache' / '*.npz'))
    # a second call finds every run done: nothing is trained again
    again = quality.run_experiment(protocol, [0], results,
                                   str(tmp_path / 'wd'), jobs=1, threads=1,
                                   device='cpu')
    assert len(again) == len(rows)
    assert not osp.exists(str(tmp_path / 'wd' / 'pixpro_s0'))


def test_gpu_script_without_cuda_runs_the_quick_protocol(tmp_path):
    import subprocess
    import sys
    out = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'benchmarks', 'quality_gpu.sh'),
         '--dry'], capture_output=True, text=True, timeout=300,
        env=dict(__import__('os').environ, PYTHON=sys.executable,
                 TMPDIR=str(tmp_path)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'no CUDA device: smoke run' in out.stdout
    # the quick protocol's runs of seed 0: random init and every arm
    runs = [line for line in out.stdout.splitlines()
            if line.endswith(' seed 0')]
    assert runs == [f'{arm} seed 0' for arm in ['random', *quality.ARMS]]
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone
