"""The online dense probe's math: the closed-form linear pixel
classifier, labels on the feature grid and the mIoU, also on real NYUv2
frames against a manual probe."""
import pytest
import torch
from mmengine.config import Config

from helpers import SYNTHETIC_CFG
from projects.depth_pixpro.engine.hooks import DenseProbeHook
from projects.depth_pixpro.evaluation.dense_probe import (
    fit_linear_classifier, labels_on_grid, segmentation_miou)


def test_labels_on_grid_nearest():
    labels = torch.arange(16).reshape(1, 4, 4)
    assert labels_on_grid(labels, (2, 2)).tolist() == [[[0, 2], [8, 10]]]


def test_classifier_separates_clusters_and_skips_ignored_pixels():
    torch.manual_seed(0)
    centres = torch.tensor([[4., 0.], [0., 4.], [-4., -4.]])
    labels = torch.randint(0, 3, (2, 5, 5))
    feats = (centres[labels] + 0.3 * torch.randn(2, 5, 5, 2)).movedim(-1, 1)
    classifier = fit_linear_classifier(feats, labels, 3)
    assert torch.equal(classifier.logits(feats).argmax(dim=1), labels)
    # unlabelled pixels with wild features do not change the fit
    feats_ign = torch.cat([feats, 100 * torch.randn(1, 2, 5, 5)])
    labels_ign = torch.cat([labels, torch.full((1, 5, 5), 255)])
    other = fit_linear_classifier(feats_ign, labels_ign, 3)
    torch.testing.assert_close(other.weight, classifier.weight)
    with pytest.raises(ValueError, match='no labelled pixel'):
        fit_linear_classifier(feats, torch.full_like(labels, 255), 3)


def test_classifier_is_the_ridge_optimum():
    torch.manual_seed(1)
    feats = torch.randn(3, 4, 2, 3) * torch.tensor([1., 5., .1, 2.])[
        None, :, None, None]
    labels = torch.randint(0, 3, (3, 2, 3))
    ridge = 0.5
    clf = fit_linear_classifier(feats, labels, 3, ridge=ridge)
    x = (feats.movedim(1, -1).reshape(-1, 4).double() - clf.mean) / clf.std
    y = torch.nn.functional.one_hot(labels.reshape(-1), 3).double()
    # zero gradient of |x W + b - y|^2 + ridge * M * |W|^2 in W and b
    residual = x @ clf.weight + clf.bias - y
    grad_w = x.T @ residual + ridge * len(x) * clf.weight
    assert grad_w.abs().max() < 1e-9
    assert residual.sum(dim=0).abs().max() < 1e-9
    assert torch.allclose(x.mean(dim=0), torch.zeros(4, dtype=x.dtype),
                          atol=1e-12)


def test_segmentation_miou_hand_case():
    labels = torch.tensor([[[0, 0, 1, 1], [2, 2, 255, 1]]])
    pred = torch.tensor([[[0, 1, 1, 1], [2, 0, 0, 3]]])
    # class 0: inter 1, union 3 (pred 0 at (0,0),(1,1); label 0 at (0,0),
    # (0,1)); class 1: inter 2 ((0,2),(0,3)), union 4; class 2: 1 / 2;
    # class 3: 0 / 1 (pred 3 on a label-1 pixel); class 4 absent
    expected = (1 / 3 + 2 / 4 + 1 / 2 + 0) / 4 * 100
    assert segmentation_miou(pred, labels, 5) == pytest.approx(expected)


def test_probe_on_real_nyuv2_frames_matches_a_manual_probe(nyuv2_mini):
    """Any mmseg dataset config: the NYUv2 frames (13 classes), resized to
    one size; the hook's value equals the probe written out by hand."""
    import torch.nn.functional as F
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from mmseg.registry import DATASETS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(SYNTHETIC_CFG)
    cfg.model.neck.update(hid_channels=16, out_channels=8)
    cfg.model.head.in_channels = 8
    cfg.model.data_preprocessor = cfg.data_preprocessor  # as the Runner
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    nyu = dict(type='NYUv2Seg13Dataset', data_root=nyuv2_mini, split=None,
               pipeline=[dict(type='LoadImageFromFile'),
                         dict(type='LoadAnnotations'),
                         dict(type='Resize', scale=(64, 48),
                              keep_ratio=False),
                         dict(type='PackSegInputs')])
    hook = DenseProbeHook(train_dataset=nyu, val_dataset=nyu)
    miou = hook.probe(model)
    assert hook.num_classes == 13 and model.backbone.training
    # by hand: eval-mode backbone, the preprocessor's normalisation
    dataset = DATASETS.build(dict(nyu, _scope_='mmseg'))
    items = [dataset[i] for i in range(len(dataset))]
    images = torch.stack([item['inputs'] for item in items]).float()
    labels = torch.stack([item['data_samples'].gt_sem_seg.data[0]
                          for item in items]).long()
    images = (images[:, [2, 1, 0]] - model.data_preprocessor.mean) / \
        model.data_preprocessor.std
    model.backbone.eval()
    with torch.no_grad():
        feats = model.backbone(images)[-1]
    clf = fit_linear_classifier(feats, labels_on_grid(labels, (3, 4)), 13)
    logits = F.interpolate(clf.logits(feats), size=(48, 64),
                           mode='bilinear', align_corners=False)
    assert miou == pytest.approx(
        segmentation_miou(logits.argmax(dim=1), labels, 13), abs=1e-6)
