"""Segmentation metrics recomputed from a model's predictions, by counting.

Independent of mmseg's ``IoUMetric`` (and of the project's
``PerClassIoUMetric``): a confusion count over the pixels that the ground
truth does not ignore; IoU of a class absent from both maps is NaN and left
out of the mean, as the benchmark's convention.
"""
import numpy as np
import torch


def predictions(model, dataloader):
    """(prediction, ground truth) label maps of a whole dataloader.

    The model runs in eval mode (as in the val/test loops), so the maps
    are the ones the evaluator saw.
    """
    model.eval()
    pairs = []
    with torch.no_grad():
        for batch in dataloader:
            for sample in model.test_step(batch):
                pairs.append((sample.pred_sem_seg.data[0].cpu().numpy(),
                              sample.gt_sem_seg.data[0].cpu().numpy()))
    return pairs


def ref_iou(pairs, num_classes, ignore_index=255):
    """Per-class IoU (percent, NaN if absent) and their NaN-mean."""
    inter = np.zeros(num_classes)
    union = np.zeros(num_classes)
    for pred, gt in pairs:
        keep = gt != ignore_index
        pred, gt = pred[keep], gt[keep]
        for cls in range(num_classes):
            p, g = pred == cls, gt == cls
            inter[cls] += np.sum(p & g)
            union[cls] += np.sum(p | g)
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = np.where(union > 0, inter / union, np.nan) * 100
    return iou, float(np.nanmean(iou))


def assert_metrics_match(metrics, pairs, classes, ignore_index=255):
    """The reported mIoU and per-class IoU (rounded to 0.01) by counting."""
    iou, miou = ref_iou(pairs, len(classes), ignore_index)
    assert abs(float(metrics['mIoU']) - miou) <= 0.006, (metrics['mIoU'],
                                                          miou)
    checked = 0
    for name, value in zip(classes, iou):
        key = f'IoU.{name}'
        if key in metrics and not np.isnan(value):
            assert abs(float(metrics[key]) - value) <= 0.006, (key, value)
            checked += 1
    assert checked > 0
    # a trained-for-2-iterations model predicts something: not vacuous
    assert 0 < len(pairs) and np.isfinite(miou)
    return miou


def reported_metrics(row):
    """mIoU and ``IoU.<class>`` of a results row (tools/seg_transfer.py)."""
    reported = {'mIoU': row['mIoU']}
    for item in filter(None, row['per_class_iou'].split(';')):
        name, value = item.strip().rsplit('=', 1)
        reported[f'IoU.{name}'] = float(value)
    return reported


def recount_checkpoint_metrics(config, checkpoint, work_dir, row,
                               options=()):
    """Check a results row against the predictions of ``checkpoint`` on the
    config's test set (``options``: the run's ``k=v`` overrides)."""
    from mmengine.config import Config, DictAction
    from mmengine.runner import Runner
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({
        k: DictAction._parse_iterable(v)
        for k, v in (o.split('=', 1) for o in options)
    })
    cfg.model.backbone.init_cfg = None
    cfg.work_dir = str(work_dir)
    runner = Runner.from_cfg(cfg)
    runner.load_checkpoint(str(checkpoint))
    loader = runner.build_dataloader(cfg.test_dataloader)
    return assert_metrics_match(reported_metrics(row),
                                predictions(runner.model, loader),
                                loader.dataset.metainfo['classes'])
