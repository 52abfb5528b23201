"""Readouts of the quality benchmark against brute force: pixel features of
upsampled levels, multi-level logits, k-NN label transfer, and the
feature-free references (position prior, cell-majority oracle)."""
import pytest
import torch
import torch.nn.functional as F

from projects.depth_pixpro.evaluation.dense_probe import \
    fit_linear_classifier
from projects.depth_pixpro.evaluation.dense_readouts import (
    knn_label_transfer, multilevel_logits, pixel_features,
    sample_pixel_positions)
from projects.depth_pixpro.evaluation.label_references import (
    cell_majority_oracle, position_prior)


def _levels(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(3, 4, 24, 24, generator=g, dtype=torch.float64),
            torch.randn(3, 5, 12, 12, generator=g, dtype=torch.float64),
            torch.randn(3, 2, 6, 6, generator=g, dtype=torch.float64)]


def _upsampled(levels, size):
    return torch.cat([F.interpolate(f, size=size, mode='bilinear',
                                    align_corners=False) for f in levels], 1)


def test_pixel_features_equal_full_upsampling_read_at_the_pixels():
    levels = _levels()
    full = _upsampled(levels, (96, 80))  # non-square, scale != integer
    g = torch.Generator().manual_seed(1)
    positions = torch.stack([torch.randint(0, 3, (200, ), generator=g),
                             torch.randint(0, 96, (200, ), generator=g),
                             torch.randint(0, 80, (200, ), generator=g)], 1)
    # the image borders (clamped source coordinates) too
    positions[:4] = torch.tensor([[0, 0, 0], [1, 95, 79], [2, 0, 79],
                                  [0, 95, 0]])
    got = pixel_features(levels, positions, (96, 80))
    want = full[positions[:, 0], :, positions[:, 1], positions[:, 2]]
    assert got.shape == (200, 11)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_multilevel_logits_equal_the_classifier_on_upsampled_features():
    levels = _levels()
    labels = torch.randint(0, 4, (3, 96, 96),
                           generator=torch.Generator().manual_seed(2))
    full = _upsampled(levels, (96, 96))
    classifier = fit_linear_classifier(full, labels, 4)
    want = classifier.logits(full)
    got = multilevel_logits(classifier, levels, (96, 96))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_multilevel_logits_refuses_levels_that_do_not_match_the_fit():
    levels = _levels()
    classifier = fit_linear_classifier(
        _upsampled(levels, (24, 24)),
        torch.zeros(3, 24, 24, dtype=torch.long), 2)
    try:
        multilevel_logits(classifier, levels[:2], (24, 24))
    except ValueError as e:
        assert '11 inputs' in str(e) and '9 channels' in str(e)
    else:
        raise AssertionError('a missing level was accepted')


def test_sample_pixel_positions_draws_labelled_pixels_only():
    labels = torch.full((2, 8, 8), 255)
    labels[0, 2:5, 3:7] = 1  # 12 labelled pixels
    labels[1] = 0  # 64
    g = torch.Generator().manual_seed(0)
    rows = sample_pixel_positions(labels, 20, g)
    first = rows[rows[:, 0] == 0]
    assert len(first) == 12 and len(rows[rows[:, 0] == 1]) == 20
    assert (labels[rows[:, 0], rows[:, 1], rows[:, 2]] != 255).all()
    assert len({tuple(r) for r in rows.tolist()}) == len(rows)  # no repeat
    again = sample_pixel_positions(labels, 20,
                                   torch.Generator().manual_seed(0))
    assert torch.equal(rows, again)


def test_knn_label_transfer_equals_a_brute_force_vote():
    g = torch.Generator().manual_seed(3)
    bank = torch.randn(60, 6, generator=g)
    bank_labels = torch.randint(0, 3, (60, ), generator=g)
    queries = torch.randn(25, 6, generator=g)
    got = knn_label_transfer(bank, bank_labels, queries, 3, k=5, chunk=7)
    for q, pred in zip(queries, got):
        sims = [float(F.cosine_similarity(q, b, dim=0)) for b in bank]
        nearest = sorted(range(60), key=lambda i: -sims[i])[:5]
        votes = [sum(int(bank_labels[i]) == c for i in nearest)
                 for c in range(3)]
        assert int(pred) == votes.index(max(votes))


def test_knn_label_transfer_with_k_one_returns_the_nearest_label():
    bank = torch.tensor([[1., 0.], [0., 1.], [-1., 0.]])
    queries = torch.tensor([[0.9, 0.2], [0.1, 2.], [-3., -0.1]])
    got = knn_label_transfer(bank, torch.tensor([2, 0, 1]), queries, 3, k=1)
    assert got.tolist() == [2, 0, 1]


def test_position_prior_by_hand():
    labels = torch.tensor([[[0, 1], [2, 255]],
                           [[0, 1], [1, 255]],
                           [[3, 0], [1, 255]]])
    prior = position_prior(labels, 4)
    # (0,0): 0,0,3 -> 0; (0,1): 1,1,0 -> 1; (1,0): 2,1,1 -> 1; (1,1): none
    assert prior.tolist() == [[0, 1], [1, 255]]
    # a tie goes to the smallest class id
    assert position_prior(torch.tensor([[[2]], [[1]]]), 3).item() == 1


def test_cell_majority_oracle_by_hand():
    labels = torch.tensor([[[0, 0, 1, 1],
                            [0, 2, 1, 255],
                            [3, 3, 255, 255],
                            [3, 2, 255, 1]]])
    oracle = cell_majority_oracle(labels, 2, 4)
    assert oracle.tolist() == [[[0, 0, 1, 1],
                                [0, 0, 1, 1],
                                [3, 3, 255, 255],
                                [3, 3, 255, 255]]]
    try:
        cell_majority_oracle(labels, 3, 4)
    except ValueError as e:
        assert 'stride 3' in str(e)
    else:
        raise AssertionError('a stride that does not divide was accepted')


def test_readout_metrics_by_hand():
    from projects.depth_pixpro.evaluation.dense_readouts import \
        readout_metrics
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[0, :, 4:] = 1  # boundary between columns 3 and 4
    pred = labels.clone()
    pred[0, 0, 0] = 1  # one error far from the boundary (column 0)
    m = readout_metrics(pred, labels, 2, band=1)
    # whole image: class 0 inter 31, union 32; class 1 inter 32, union 33
    assert m['IoU'] == [pytest.approx(100 * 31 / 32),
                        pytest.approx(100 * 32 / 33)]
    assert m['mIoU'] == pytest.approx(100 * (31 / 32 + 32 / 33) / 2)
    # the band (columns 3 and 4) holds no error
    assert m['boundary_mIoU'] == pytest.approx(100.)
    pred[0, 5, 3] = 1  # an error inside the band
    m = readout_metrics(pred, labels, 2, band=1)
    assert m['boundary_mIoU'] == pytest.approx(100 * (7 / 8 + 8 / 9) / 2)


def test_grid_positions_are_the_cell_centres():
    from projects.depth_pixpro.evaluation.dense_readouts import \
        grid_positions
    rows = grid_positions(2, (8, 4), 4)
    assert rows.tolist() == [[0, 2, 2], [0, 6, 2], [1, 2, 2], [1, 6, 2]]
    with pytest.raises(ValueError, match='stride 3'):
        grid_positions(1, (8, 8), 3)


def _blocky_labels(num, seed):
    g = torch.Generator().manual_seed(seed)
    cells = torch.randint(0, 3, (num, 4, 4), generator=g)
    return cells.repeat_interleave(8, 1).repeat_interleave(8, 2)  # 32x32


def test_score_dense_readouts_is_perfect_on_features_that_hold_the_label():
    from projects.depth_pixpro.evaluation.dense_readouts import \
        score_dense_readouts
    train, val = _blocky_labels(6, 0), _blocky_labels(4, 1)

    def levels(labels):  # one-hot at full resolution + a coarse noise level
        onehot = F.one_hot(labels, 3).permute(0, 3, 1, 2).double()
        noise = torch.randn(len(labels), 2, 4, 4,
                            generator=torch.Generator().manual_seed(2))
        return [onehot, noise.double()]

    scores = score_dense_readouts(levels(train), train, levels(val), val, 3,
                                  pixels_per_image=200, knn_k=3,
                                  knn_bank_per_image=50, knn_stride=8)
    assert scores['ridge']['mIoU'] == pytest.approx(100.)
    assert scores['knn']['mIoU'] == pytest.approx(100.)
    # features without the label: both readouts fall far below
    noise = [torch.randn(len(l), 4, 8, 8, dtype=torch.float64,
                         generator=torch.Generator().manual_seed(3))
             for l in (train, val)]
    blind = score_dense_readouts([noise[0]], train, [noise[1]], val, 3,
                                 pixels_per_image=200, knn_k=3,
                                 knn_bank_per_image=50, knn_stride=8)
    assert blind['ridge']['mIoU'] < 60 and blind['knn']['mIoU'] < 60
    # deterministic for a seed
    again = score_dense_readouts([noise[0]], train, [noise[1]], val, 3,
                                 pixels_per_image=200, knn_k=3,
                                 knn_bank_per_image=50, knn_stride=8)
    assert again == blind
