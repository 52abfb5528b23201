"""The analysis tools end to end: visualize_pairs, visualize_features,
plot_logs and pair_purity."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from helpers import REPO_ROOT, SYNTHETIC_CFG, load_script, read_png
from projects.depth_pixpro.models.utils import (depth_positive_mask,
                                                pool_depth,
                                                spatial_positive_mask)


def load_tool(name):
    """Import tools/analysis_tools/<name>.py as a module."""
    return load_script(osp.join('tools', 'analysis_tools', name + '.py'))


# ------------------------------------------------------- visualize_pairs
def test_visualize_pairs_tool(tmp_path, capsys):
    tool = load_tool('visualize_pairs')
    result = tool.main([
        SYNTHETIC_CFG, '--index', '3', '--out', str(tmp_path),
        '--cfg-options', 'train_dataloader.dataset.num_samples=8'
    ])
    img = read_png(result['out'])
    # depth_pixpro_synthetic: 1 depth filter -> 3 columns, 2 rows
    assert img.shape[:2] == (530, 720)
    pairs, coord, depth = result['pairs'], result['coord'], result['depth']
    assert pairs.size == (4, 4)  # 64 px crops, stride 16
    size = pairs.size
    spatial = spatial_positive_mask(coord[:, 0], coord[:, 1], size, 0.7)
    depth_ok = depth_positive_mask(
        pool_depth(depth[:, 0], size), pool_depth(depth[:, 1], size), 0.1)
    assert torch.equal(pairs.masks['spatial'], spatial)
    assert torch.equal(pairs.masks['spatial+depth'], spatial & depth_ok)
    out = capsys.readouterr().out
    assert f'all pairs: {int(spatial.sum()):>5}' in out
    # a chosen cell and grid; a wrong index is a clear error
    result = tool.main([
        SYNTHETIC_CFG, '--index', '3', '--pixel', '1', '2', '--size', '3',
        '3', '--out', str(tmp_path), '--cfg-options',
        'train_dataloader.dataset.num_samples=8'
    ])
    assert result['cell'] == (2, 1) and result['pairs'].size == (3, 3)
    with pytest.raises(ValueError, match='out of range'):
        tool.main([SYNTHETIC_CFG, '--index', '99', '--cfg-options',
                   'train_dataloader.dataset.num_samples=8'])


@pytest.mark.slow
def test_visualize_features_tool(pair_hook_run, nyuv2_mini, tmp_path):
    tool = load_tool('visualize_features')
    ckpt = osp.join(pair_hook_run, 'iter_2.pth')
    images = sorted(os.listdir(osp.join(nyuv2_mini, 'rgb')))[:2]
    images = [osp.join(nyuv2_mini, 'rgb', n) for n in images]
    written = tool.main([ckpt, *images, '--compare', ckpt, '--points',
                         '10,10', '100,60', '--img-size', '128', '--out',
                         str(tmp_path)])
    assert len(written) == 2
    # 2 checkpoints x (image, PCA, 2 similarity maps) at 100 dpi
    assert read_png(written[0]).shape[:2] == (480, 880)
    # the loaded weights are the checkpoint's
    model = tool.load_model(ckpt)
    state = torch.load(ckpt, weights_only=True)['state_dict']
    assert torch.equal(model.backbone.conv1.weight,
                       state['backbone.conv1.weight'])
    # a bare state dict needs --config; a point outside the image fails
    bare = str(tmp_path / 'bare.pth')
    torch.save(state, bare)
    with pytest.raises(ValueError, match='--config'):
        tool.main([bare, images[0], '--out', str(tmp_path)])
    # stored config text is read as literals, never executed
    marker = tmp_path / 'executed'
    hostile = str(tmp_path / 'hostile.pth')
    torch.save({'state_dict': state, 'meta': {'cfg': (
        f"model = __import__('os').system('touch {marker}')")}}, hostile)
    with pytest.raises(ValueError, match='--config'):
        tool.main([hostile, images[0], '--out', str(tmp_path)])
    assert not marker.exists()
    assert tool.main([bare, images[0], '--config', SYNTHETIC_CFG,
                      '--img-size', '64', '--out', str(tmp_path)])
    with pytest.raises(ValueError, match='outside'):
        tool.main([ckpt, images[0], '--points', '500,10', '--img-size',
                   '64', '--out', str(tmp_path)])


# ------------------------------------------------------------ plot_logs
def _write_session(work_dir, stamp, records):
    folder = osp.join(work_dir, stamp, 'vis_data')
    os.makedirs(folder)
    with open(osp.join(folder, stamp + '.json'), 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in records)


def test_plot_logs_merges_sessions(tmp_path):
    tool = load_tool('plot_logs')
    run = str(tmp_path / 'run')
    _write_session(run, '20240101_000000',
                   [dict(loss=1.0, step=1), dict(loss=0.8, step=2),
                    dict(loss=0.7, step=3)])
    # resumed from step 2: step 3 logged again, the later session wins
    _write_session(run, '20240102_000000',
                   [dict(loss=0.5, pos_final=3., step=3),
                    dict(loss=0.4, pos_final=2., step=4)])
    curves = tool.load_scalars(run)
    assert curves['loss'] == {1: 1.0, 2: 0.8, 3: 0.5, 4: 0.4}
    assert curves['pos_final'] == {3: 3., 4: 2.}
    with pytest.raises(FileNotFoundError, match='vis_data'):
        tool.load_scalars(str(tmp_path))
    with pytest.raises(KeyError, match='available keys'):
        tool.main([run, '--keys', 'nope', '--out', str(tmp_path / 'x.png')])


@pytest.mark.slow
def test_plot_logs_tool(pair_hook_run, tmp_path):
    tool = load_tool('plot_logs')
    out = tool.main([pair_hook_run, pair_hook_run, '--keys', 'loss',
                     'pos_final', 'pairs/spatial', '--legend', 'a', 'b',
                     '--out', str(tmp_path / 'curves.png')])
    assert read_png(out).shape[:2] == (300, 1350)
    curves = tool.load_scalars(pair_hook_run)
    assert sorted(curves['loss']) == [1, 2]
    with pytest.raises(ValueError, match='legend'):
        tool.main([pair_hook_run, '--legend', 'a', 'b'])


@pytest.mark.slow
def test_pair_purity_tool_on_synthetic_scenes(tmp_path):
    out = str(tmp_path / 'purity')
    result = load_tool('pair_purity').main([
        SYNTHETIC_CFG, '--dataset', 'synthetic', '--pairs', '4', '--out', out
    ])
    assert [s.spatial_thresh for s in result.scales] == [0.7, 1.4, 2.8]
    assert all(s.size == (4, 4) for s in result.scales)
    for name in ('pair_purity.md', 'pair_purity.png', 'pair_purity.json'):
        assert osp.isfile(osp.join(out, name))
    with open(osp.join(out, 'pair_purity.json')) as f:
        rows = json.load(f)['rows']
    spatial = [r for r in rows if r['setting'] == 'spatial']
    assert all(r['recall'] == 1. for r in spatial)
    assert spatial[0]['counts']['images'] == 4
    # the config's own filters as trained = the same filter in the sweep
    configured = [r for r in rows if r['setting'] == 'as configured']
    assert len(configured) == 3
    for r in configured:
        same = next(s for s in rows if s['scale'] == r['scale']
                    and s['setting'] == 'relative/mean 0.1')
        assert r['counts'] == same['counts']
    # a filter only removes pairs: never more kept than the spatial test
    for r in rows:
        base = next(s for s in spatial if s['scale'] == r['scale'])
        assert r['counts']['kept'] <= base['counts']['kept']


@pytest.mark.slow
def test_pair_purity_tool_on_real_frames_from_a_dataset_config(
        tmp_path, nyuv2_mini):
    import mmcv

    tool = load_tool('pair_purity')
    data_cfg = tmp_path / 'nyuv2_mini_dataset.py'
    data_cfg.write_text(f"dataset = dict(type='NYUv2Seg13Dataset', "
                        f"data_root={nyuv2_mini!r}, split=None)\n")
    frames = tool.labelled_frames(str(data_cfg), Config())
    assert len(frames) == 8 and frames.num_classes == 13
    first = frames[0]
    raw = mmcv.imread(osp.join(nyuv2_mini, 'label', '0001.png'), 'unchanged')
    assert np.array_equal(first['label'], raw)
    assert first['depth'].dtype == np.float32
    assert 0.8 < float(first['depth'].min()) < float(first['depth'].max()) < 11
    # the folder itself names the same frames
    folder = tool.labelled_frames(nyuv2_mini, Config())
    assert len(folder) == 8 and folder.num_classes == 13
    assert np.array_equal(folder[0]['label'], raw)
    with pytest.raises(FileNotFoundError, match='neither synthetic'):
        tool.labelled_frames(str(tmp_path / 'absent'), Config())

    result = tool.main([
        osp.join(REPO_ROOT, 'configs',
                 'depth_pixpro_resnet50_8xb128-lars-coslr-100e_nyuv2.py'),
        '--dataset',
        str(data_cfg), '--pairs', '3', '--out',
        str(tmp_path / 'out'), '--cfg-options', 'model.backbone.depth=18'
    ])
    assert [s.size for s in result.scales] == [(7, 7)] * 3
    spatial = result.get('T=0.7', 'spatial')
    assert spatial.images == 3 and spatial.kept_labelled > 0
    assert 0 < spatial.purity < 1
