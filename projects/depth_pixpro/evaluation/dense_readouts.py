"""Converged readouts of frozen dense features at label resolution (the
quality benchmark, ``benchmarks/quality.py``).

Several backbone levels are read as if upsampled bilinearly to the label
maps and concatenated: a closed-form ridge classifier
(:func:`~.dense_probe.fit_linear_classifier`) fitted on random labelled
pixels, and a k-nearest-neighbour label transfer. Both are deterministic for
a seed and need no learning rate or schedule, so what they measure is the
features, not an optimiser.
"""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .dense_probe import (LinearPixelClassifier, fit_linear_classifier,
                          per_class_iou)
from .metrics import boundary_band


def sample_pixel_positions(labels: Tensor, per_image: int,
                           generator: torch.Generator,
                           ignore_index: int = 255) -> Tensor:
    """Random labelled pixels of each image (without replacement).

    Args:
        labels (Tensor): [N, H, W] label maps.
        per_image (int): Pixels drawn per image (fewer where an image has
            fewer labelled pixels).
        generator (torch.Generator): Source of the draw (a seeded one makes
            the readout deterministic).
        ignore_index (int): Unlabelled pixels, never drawn. Defaults to 255.

    Returns:
        Tensor: long [M, 3] rows ``(image, y, x)``.
    """
    if per_image < 1:
        raise ValueError(f'per_image must be >= 1, got {per_image}')
    rows = []
    width = labels.shape[-1]
    for n, label in enumerate(labels):
        flat = torch.nonzero(label.reshape(-1) != ignore_index)[:, 0]
        pick = flat[torch.randperm(len(flat), generator=generator)
                    [:per_image]]
        rows.append(torch.stack([torch.full_like(pick, n), pick // width,
                                 pick % width], dim=1))
    return torch.cat(rows)


def pixel_features(levels: Sequence[Tensor], positions: Tensor,
                   image_size: Sequence[int]) -> Tensor:
    """Features of the given pixels, every level bilinearly upsampled to the
    image (``F.interpolate(level, image_size, mode='bilinear',
    align_corners=False)`` read at those pixels, without building the
    upsampled maps), concatenated over levels.

    Args:
        levels (Sequence[Tensor]): Feature maps [N, C_l, h_l, w_l].
        positions (Tensor): long [M, 3] ``(image, y, x)`` rows.
        image_size (Sequence[int]): ``(H, W)`` of the label maps.

    Returns:
        Tensor: [M, sum(C_l)].
    """
    height, width = (int(s) for s in image_size)
    image, y, x = positions.unbind(dim=1)
    out = []
    for feats in levels:
        h, w = feats.shape[-2:]
        # source coordinate of pixel centre i (align_corners=False)
        sy = ((y.double() + 0.5) * h / height - 0.5).clamp(0, h - 1)
        sx = ((x.double() + 0.5) * w / width - 0.5).clamp(0, w - 1)
        y0, x0 = sy.floor().long(), sx.floor().long()
        y1, x1 = (y0 + 1).clamp(max=h - 1), (x0 + 1).clamp(max=w - 1)
        wy, wx = (sy - y0).to(feats.dtype)[:, None], \
            (sx - x0).to(feats.dtype)[:, None]
        f = feats.movedim(1, -1)  # [N, h, w, C]
        top = f[image, y0, x0] * (1 - wx) + f[image, y0, x1] * wx
        bottom = f[image, y1, x0] * (1 - wx) + f[image, y1, x1] * wx
        out.append(top * (1 - wy) + bottom * wy)
    return torch.cat(out, dim=1)


def multilevel_logits(classifier: LinearPixelClassifier,
                      levels: Sequence[Tensor],
                      image_size: Sequence[int]) -> Tensor:
    """Class scores at label resolution of a classifier fitted on
    :func:`pixel_features` of ``levels``.

    Bilinear upsampling is linear with weights summing to one, so the
    scores of the upsampled, concatenated features equal the sum over
    levels of each level's (standardised) scores upsampled: K channels are
    upsampled instead of every feature channel.

    Args:
        classifier (LinearPixelClassifier): Fitted on the concatenation.
        levels (Sequence[Tensor]): Feature maps [N, C_l, h_l, w_l], in the
            order of the fit.
        image_size (Sequence[int]): ``(H, W)``.

    Returns:
        Tensor: [N, K, H, W] float scores.
    """
    size = tuple(int(s) for s in image_size)
    total, start = 0., 0
    for feats in levels:
        stop = start + feats.shape[1]
        part = LinearPixelClassifier(
            classifier.mean[start:stop], classifier.std[start:stop],
            classifier.weight[start:stop],
            torch.zeros_like(classifier.bias))
        total = total + F.interpolate(
            part.logits(feats), size=size, mode='bilinear',
            align_corners=False)
        start = stop
    if start != len(classifier.mean):
        raise ValueError(f'the classifier has {len(classifier.mean)} '
                         f'inputs, the levels {start} channels')
    return total + classifier.bias.float()[None, :, None, None]


def knn_label_transfer(bank: Tensor, bank_labels: Tensor, queries: Tensor,
                       num_classes: int, k: int = 20,
                       chunk: int = 4096) -> Tensor:
    """Majority label of each query's ``k`` nearest bank features (cosine
    similarity; ties go to the smallest class id).

    Args:
        bank (Tensor): [M, C] reference features.
        bank_labels (Tensor): [M] their labels in ``[0, num_classes)``.
        queries (Tensor): [Q, C].
        num_classes (int): K.
        k (int): Neighbours. Defaults to 20.
        chunk (int): Queries per similarity block (memory). Defaults to 4096.

    Returns:
        Tensor: long [Q] predicted labels.
    """
    if not 1 <= k <= len(bank):
        raise ValueError(f'k must be in [1, {len(bank)}], got {k}')
    bank = F.normalize(bank.float(), dim=1)
    preds = []
    for start in range(0, len(queries), chunk):
        q = F.normalize(queries[start:start + chunk].float(), dim=1)
        nearest = (q @ bank.T).topk(k, dim=1).indices
        votes = F.one_hot(bank_labels[nearest].long(), num_classes).sum(1)
        preds.append(votes.argmax(dim=1))
    return torch.cat(preds) if preds else queries.new_zeros(0,
                                                            dtype=torch.long)


def readout_metrics(pred: Tensor, labels: Tensor, num_classes: int,
                    band: int = 3, ignore_index: int = 255) -> dict:
    """mIoU over whole images and over the boundary band of the labels.

    Args:
        pred (Tensor): [N, H, W] predicted labels.
        labels (Tensor): [N, H, W] ground truth.
        num_classes (int): K.
        band (int): Half-width of the band around class boundaries
            (:func:`~.metrics.boundary_band`). Defaults to 3.
        ignore_index (int): Defaults to 255.

    Returns:
        dict: ``mIoU`` and ``boundary_mIoU`` (percent), ``IoU`` (list of K
        per-class IoUs in percent, NaN for a class seen nowhere).
    """
    iou = per_class_iou(pred, labels, num_classes, ignore_index)
    in_band = torch.stack(
        [boundary_band(label, band, ignore_index) for label in labels])
    band_labels = torch.where(in_band, labels,
                              torch.full_like(labels, ignore_index))
    band_iou = per_class_iou(pred, band_labels, num_classes, ignore_index)
    return dict(mIoU=float(iou.nanmean() * 100),
                boundary_mIoU=float(band_iou.nanmean() * 100),
                IoU=[float(v * 100) for v in iou])


def grid_positions(num_images: int, image_size: Sequence[int],
                   stride: int) -> Tensor:
    """Centre pixels of the ``stride x stride`` cells of every image.

    Returns:
        Tensor: long [N * H/stride * W/stride, 3] ``(image, y, x)`` rows,
        image-major then row-major.
    """
    height, width = (int(s) for s in image_size)
    if stride < 1 or height % stride or width % stride:
        raise ValueError(f'stride {stride} must divide the image size '
                         f'{height}x{width}')
    ys = torch.arange(stride // 2, height, stride)
    xs = torch.arange(stride // 2, width, stride)
    n, y, x = torch.meshgrid(torch.arange(num_images), ys, xs,
                             indexing='ij')
    return torch.stack([n.reshape(-1), y.reshape(-1), x.reshape(-1)], 1)


def score_dense_readouts(train_levels: Sequence[Tensor], train_labels: Tensor,
                         val_levels: Sequence[Tensor], val_labels: Tensor,
                         num_classes: int,
                         ridge: float = 1e-2,
                         pixels_per_image: int = 512,
                         knn_k: int = 20,
                         knn_bank_per_image: int = 64,
                         knn_stride: int = 8,
                         band: int = 3,
                         seed: int = 0,
                         ignore_index: int = 255) -> Dict[str, dict]:
    """Ridge probe and k-NN label transfer of frozen multi-level features.

    * ``ridge``: :func:`fit_linear_classifier` on ``pixels_per_image``
      random labelled pixels of each training image (features of every
      level upsampled to the pixel), evaluated on every validation pixel
      (:func:`multilevel_logits`).
    * ``knn``: each validation cell centre (stride ``knn_stride``) takes
      the majority label of its ``knn_k`` nearest training pixels
      (``knn_bank_per_image`` random ones per image, cosine similarity of
      the features standardised with the training statistics); the label
      fills the cell.

    Args:
        train_levels (Sequence[Tensor]): Feature maps [N, C_l, h_l, w_l] of
            the training images, one per level.
        train_labels (Tensor): [N, H, W] their labels.
        val_levels (Sequence[Tensor]): Same levels of the validation
            images.
        val_labels (Tensor): [M, H', W'] their labels.
        num_classes (int): K.
        ridge (float): L2 penalty of the classifier. Defaults to 1e-2.
        pixels_per_image (int): Training pixels per image of the ridge fit.
            Defaults to 512.
        knn_k (int): Neighbours. Defaults to 20.
        knn_bank_per_image (int): Training pixels per image in the k-NN
            bank. Defaults to 64.
        knn_stride (int): Cell size of the k-NN predictions. Defaults to 8.
        band (int): Boundary band of :func:`readout_metrics`. Defaults to 3.
        seed (int): Seed of the pixel draws. Defaults to 0.
        ignore_index (int): Defaults to 255.

    Returns:
        dict: ``{'ridge': metrics, 'knn': metrics}``, each as
        :func:`readout_metrics` returns.
    """
    generator = torch.Generator().manual_seed(seed)
    train_size = train_labels.shape[-2:]
    val_size = val_labels.shape[-2:]
    positions = sample_pixel_positions(train_labels, pixels_per_image,
                                       generator, ignore_index)
    x = pixel_features(train_levels, positions, train_size)
    y = train_labels[positions[:, 0], positions[:, 1], positions[:, 2]]
    classifier = fit_linear_classifier(x[..., None, None], y[:, None, None],
                                       num_classes, ignore_index, ridge)
    preds = []
    for start in range(0, len(val_labels), 32):
        chunk = [f[start:start + 32] for f in val_levels]
        preds.append(multilevel_logits(classifier, chunk,
                                       val_size).argmax(dim=1))
    scores = dict(ridge=readout_metrics(torch.cat(preds), val_labels,
                                        num_classes, band, ignore_index))

    bank_positions = sample_pixel_positions(train_labels, knn_bank_per_image,
                                            generator, ignore_index)
    bank = pixel_features(train_levels, bank_positions, train_size)
    bank_labels = train_labels[bank_positions[:, 0], bank_positions[:, 1],
                               bank_positions[:, 2]]
    cells = grid_positions(len(val_labels), val_size, knn_stride)
    queries = pixel_features(val_levels, cells, val_size)
    standardise = (lambda f: (f.double() - classifier.mean) /
                   classifier.std)
    grid = knn_label_transfer(standardise(bank), bank_labels,
                              standardise(queries), num_classes, knn_k)
    grid = grid.view(len(val_labels), val_size[0] // knn_stride,
                     val_size[1] // knn_stride)
    knn_pred = grid.repeat_interleave(knn_stride, 1).repeat_interleave(
        knn_stride, 2)
    scores['knn'] = readout_metrics(knn_pred, val_labels, num_classes, band,
                                    ignore_index)
    return scores
