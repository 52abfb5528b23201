"""Analysis tools (pairs, features, log plots) and PairVisualizationHook."""
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from projects.depth_pixpro.models.filters import (DepthPairFilter,
                                                  NormalPairFilter)
from projects.depth_pixpro.models.heads import MultiScalePixelHead
from projects.depth_pixpro.models.utils import (depth_positive_mask,
                                                pool_depth,
                                                spatial_positive_mask)
from projects.depth_pixpro.utils.scripts import read_scalars
from projects.depth_pixpro.visualization import (build_pair_figure,
                                                 compute_pair_masks,
                                                 cosine_similarity_map,
                                                 draw_pair_figure, pca_rgb,
                                                 select_query_cell)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SYNTHETIC_CFG = osp.join(REPO, 'configs', 'depth_pixpro_synthetic.py')
TINY_TRAIN = [
    'train_cfg.max_iters=2', 'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'train_dataloader.dataset.num_samples=8',
    'train_dataloader.dataset.img_size=64', 'default_hooks.logger.interval=1',
    'model.neck.hid_channels=64', 'model.neck.out_channels=32',
    'model.head.in_channels=32'
]


def load_tool(name):
    """Import tools/analysis_tools/<name>.py as a module."""
    path = osp.join(REPO, 'tools', 'analysis_tools', name + '.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_png(path):
    assert osp.getsize(path) > 0
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert img is not None
    return img


@pytest.fixture(scope='module')
def trained_run(tmp_path_factory):
    """A 2-iteration DepthPixPro run with the hook at interval 1:
    checkpoint, JSON logs and hook images in one work dir."""
    from mmengine.registry import DefaultScope

    from projects.depth_pixpro.checkpoint import ensure_checkpoint_hooks
    from projects.depth_pixpro.device import build_runner
    root = tmp_path_factory.mktemp('run')
    cfg_file = root / 'hook_cfg.py'
    cfg_file.write_text(
        f'_base_ = {SYNTHETIC_CFG!r}\n'
        "custom_hooks = [dict(type='PairVisualizationHook', interval=1)]\n")
    cfg = Config.fromfile(str(cfg_file))
    cfg.merge_from_dict(
        {k: eval(v) if v[0].isdigit() or v in ('False', 'True') else v
         for k, v in (o.split('=') for o in TINY_TRAIN)})
    cfg.work_dir = str(root / 'work')
    ensure_checkpoint_hooks(cfg)
    saved = dict(DefaultScope._instance_dict)
    runner = build_runner(cfg)
    runner.train()
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
    return cfg.work_dir


# ------------------------------------------------------------ pair masks
def _random_batch(n=3, size=(4, 5), seed=0):
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.rand(n, 2, generator=gen) * 0.4
    y0 = torch.rand(n, 2, generator=gen) * 0.4
    coord = torch.stack([x0, y0, x0 + 0.5, y0 + 0.6], dim=-1)  # [n, 2, 4]
    coord[0, 1] = coord[0, 1, [2, 1, 0, 3]]  # one flipped view
    depth = 1 + 3 * torch.rand(n, 2, 16, 20, generator=gen)
    depth[1, 0, :8] = 0  # invalid region
    return coord, depth


def test_pair_masks_equal_contract():
    coord, depth = _random_batch()
    size = (4, 5)
    pairs = compute_pair_masks(coord, depth, size, 0.9,
                               [DepthPairFilter(thresh=0.2)])
    assert pairs.names == ['spatial', 'spatial+depth']
    spatial = spatial_positive_mask(coord[:, 0], coord[:, 1], size, 0.9)
    depth_ok = depth_positive_mask(
        pool_depth(depth[:, 0], size), pool_depth(depth[:, 1], size), 0.2,
        mode='relative', invalid='pass')
    assert torch.equal(pairs.masks['spatial'], spatial)
    assert torch.equal(pairs.masks['spatial+depth'], spatial & depth_ok)
    # the depth test really removes pairs here (non-vacuous comparison)
    assert pairs.masks['spatial+depth'].sum() < spatial.sum()
    # reverse view order = transposed masks
    back = compute_pair_masks(coord, depth, size, 0.9,
                              [DepthPairFilter(thresh=0.2)], views=(1, 0))
    assert torch.equal(back.masks['spatial+depth'],
                       pairs.masks['spatial+depth'].transpose(1, 2))


def test_pair_masks_several_filters_and_no_depth():
    coord, depth = _random_batch()
    filters = [DepthPairFilter(thresh=0.2), NormalPairFilter(30.)]
    pairs = compute_pair_masks(coord, depth, (4, 5), 1.4, filters)
    assert pairs.names == ['spatial', 'spatial+depth', 'spatial+normal',
                           'final']
    assert torch.equal(
        pairs.masks['final'],
        pairs.masks['spatial+depth'] & pairs.masks['spatial+normal'])
    # per-scale override disables the depth filter (inf), like the head
    off = compute_pair_masks(coord, depth, (4, 5), 1.4, filters,
                             scale=dict(depth_thresh=float('inf')))
    assert off.names == ['spatial', 'spatial+normal']
    # without depth the filters do not apply (PixPro)
    assert compute_pair_masks(coord, None, (4, 5), 1.4,
                              filters).names == ['spatial']


def test_pair_counts_match_head_statistics():
    """The tool's masks are the head's positives: same pair counts."""
    coord, depth = _random_batch(n=2, size=(4, 4), seed=3)
    depth = depth[..., :16, :16]
    head = MultiScalePixelHead(
        in_channels=8,
        scales=[dict(spatial_thresh=1.0, depth_thresh=0.15)],
        filters=[dict(type='DepthPairFilter', thresh=0.3)])
    proj = [[torch.randn(2, 8, 4, 4)] for _ in range(2)]
    stats = head.loss(proj, proj, coord, depth)
    spatial, final = [], []
    for views in ((0, 1), (1, 0)):
        pairs = compute_pair_masks(coord, depth, (4, 4), 1.0, head.filters,
                                   head.scales[0], views=views)
        spatial.append(pairs.masks['spatial'].sum((1, 2)).float())
        final.append(pairs.final.sum((1, 2)).float())
    assert torch.stack(spatial).mean() == pytest.approx(
        float(stats['pos_spatial']))
    assert torch.stack(final).mean() == pytest.approx(
        float(stats['pos_final']))
    assert float(stats['pos_final']) < float(stats['pos_spatial'])


def test_select_query_cell_hand_case():
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 1, :3] = True  # cell 1: 3 spatial partners
    mask[0, 2, :2] = True  # cell 2: 2 spatial partners, filter removes 2
    final = mask.clone()
    final[0, 2] = False
    from projects.depth_pixpro.visualization import PairMasks
    pairs = PairMasks({'spatial': mask, 'spatial+depth': final}, (2, 2))
    assert select_query_cell(pairs) == (1, 0)  # index 2 = row 1, col 0
    pairs = PairMasks({'spatial': mask, 'spatial+depth': mask}, (2, 2))
    assert select_query_cell(pairs) == (0, 1)  # most spatial partners
    empty = torch.zeros_like(mask)
    assert select_query_cell(PairMasks({'spatial': empty}, (2, 2))) == (1, 1)


def _drawn_partners(fig, column, n_cols, img_hw, size):
    """Grid cells of the green partner patches of one panel."""
    ax = fig.axes[column]
    cells = set()
    for patch in ax.patches:
        if patch.get_facecolor()[:3] == (0., 1., 0.):  # lime
            x, y = patch.get_xy()
            cells.add((round((y + 0.5) / (img_hw[0] / size[0])),
                       round((x + 0.5) / (img_hw[1] / size[1]))))
    return cells


def test_draw_pair_figure_partners_are_the_masks():
    coord, depth = _random_batch()
    size = (4, 5)
    pairs = compute_pair_masks(coord, depth, size, 0.9,
                               [DepthPairFilter(thresh=0.2)])
    images = [np.full((32, 40, 3), 128, np.uint8)] * 2
    for sample in range(3):
        cell = select_query_cell(pairs, sample)
        fig = build_pair_figure(images, depth[sample].numpy(), pairs, cell,
                                sample=sample)
        query = cell[0] * size[1] + cell[1]
        for column, name in enumerate(pairs.names, start=1):
            expected = {divmod(int(i), size[1]) for i in torch.nonzero(
                pairs.masks[name][sample, query]).flatten()}
            assert _drawn_partners(fig, column, 3, (32, 40), size) == \
                expected
            # depth row: same overlay
            assert _drawn_partners(fig, 3 + column, 3, (32, 40), size) == \
                expected
    assert any(pairs.masks['spatial+depth'].flatten(1).any(1))
    drawn = draw_pair_figure(images, depth[0].numpy(), pairs, (0, 0),
                             dpi=50)
    assert drawn.shape == (265, 360, 3)
    drawn = draw_pair_figure(images, None, pairs, (0, 0), dpi=50)
    assert drawn.shape == (145, 360, 3)
    with pytest.raises(ValueError, match='outside'):
        draw_pair_figure(images, None, pairs, (4, 0))


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


# ---------------------------------------------------------------- hook
def test_pair_visualization_hook_writes_images(trained_run):
    vis = [osp.join(r, f) for r, _, files in os.walk(trained_run)
           for f in files if 'vis_image' in r]
    names = sorted(osp.basename(p) for p in vis)
    assert names == ['pairs_0_1.png', 'pairs_0_2.png']
    for path in vis:
        assert read_png(path).shape[:2] == (530, 720)
    records = read_scalars(trained_run)
    counts = [r for r in records if 'pairs/spatial' in r]
    assert [r['step'] for r in counts] == [1, 2]
    assert all(r['pairs/spatial+depth'] <= r['pairs/spatial']
               for r in counts)


def test_pair_visualization_hook_rejects_bad_args():
    from projects.depth_pixpro.engine.hooks import PairVisualizationHook
    with pytest.raises(ValueError):
        PairVisualizationHook(interval=0)


# ---------------------------------------------------- visualize_features
def test_pca_and_cosine_hand_cases():
    feats = torch.zeros(4, 2, 3)
    feats[0, :, :2] = 1.  # left columns: e0
    feats[1, :, 2] = 2.  # right column: e1
    sim = cosine_similarity_map(feats, 0, 0)
    assert np.allclose(sim[:, :2], 1) and np.allclose(sim[:, 2], 0)
    rgb = pca_rgb(feats)
    assert rgb.shape == (2, 3, 3) and rgb.min() >= 0 and rgb.max() <= 1
    # first component separates the two groups, constant within each
    assert np.allclose(rgb[:, :2, 0], rgb[0, 0, 0])
    assert abs(rgb[0, 0, 0] - rgb[0, 2, 0]) > 0.9
    with pytest.raises(ValueError, match='outside'):
        cosine_similarity_map(feats, 2, 0)


def test_visualize_features_tool(trained_run, nyuv2_mini, tmp_path):
    tool = load_tool('visualize_features')
    ckpt = osp.join(trained_run, 'iter_2.pth')
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


def test_plot_logs_tool(trained_run, tmp_path):
    tool = load_tool('plot_logs')
    out = tool.main([trained_run, trained_run, '--keys', 'loss', 'pos_final',
                     'pairs/spatial', '--legend', 'a', 'b', '--out',
                     str(tmp_path / 'curves.png')])
    assert read_png(out).shape[:2] == (300, 1350)
    curves = tool.load_scalars(trained_run)
    assert sorted(curves['loss']) == [1, 2]
    with pytest.raises(ValueError, match='legend'):
        tool.main([trained_run, '--legend', 'a', 'b'])
