"""Online dense probe: downstream quality while pretraining runs."""
import copy
import time
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...evaluation.dense_probe import (fit_linear_classifier, labels_on_grid,
                                       segmentation_miou)

#: Labelled synthetic scenes (seeds disjoint from pretraining) read whole.
_SYNTHETIC_SCENES = dict(
    type='SyntheticSceneSegDataset',
    size=(128, 128),
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ])
SYNTHETIC_PROBE_TRAIN = dict(_SYNTHETIC_SCENES, num_images=32, first_seed=0)
SYNTHETIC_PROBE_VAL = dict(
    _SYNTHETIC_SCENES, num_images=16, first_seed=100_000)


@HOOKS.register_module()
class DenseProbeHook(Hook):
    """Every ``interval`` iterations, fit a linear pixel classifier on the
    frozen online backbone's features of a small labelled set and log its
    validation mIoU as ``probe_miou`` (to every vis backend of the runner).

    The classifier is closed-form ridge regression on standardised features
    (:func:`fit_linear_classifier`) at the feature grid; validation logits
    are upsampled bilinearly to the label maps. The backbone runs in eval
    mode (BN running statistics) without gradients and is put back in its
    training state. Only the main process probes. The datasets are mmseg
    dataset configs whose pipeline ends with ``PackSegInputs`` and gives
    images of one size (e.g. NYUv2 test pipelines, or the default: the
    synthetic scenes); they are built at the first probe.

    The reference of the run's probes is the probe of the weights it starts
    from (random init, or ``load_from``), measured once before the first
    iteration, logged as ``probe_miou`` at step 0, printed beside every
    probe and kept in the checkpoints (``meta['probe_miou_start']``), so a
    resumed run has it without measuring again.

    Args:
        interval (int): Iterations between probes. Defaults to 100.
        train_dataset (dict, optional): Images the classifier is fitted on.
            Defaults to 32 synthetic scenes (:data:`SYNTHETIC_PROBE_TRAIN`).
        val_dataset (dict, optional): Images of the mIoU. Defaults to 16
            other synthetic scenes (:data:`SYNTHETIC_PROBE_VAL`).
        level (int): Backbone output probed. Defaults to -1 (the last).
        ridge (float): L2 penalty of the classifier. Defaults to 1e-2.
        batch_size (int): Images per feature pass. Defaults to 8.
        ignore_index (int): Unlabelled pixels. Defaults to 255.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 100,
                 train_dataset: Optional[dict] = None,
                 val_dataset: Optional[dict] = None,
                 level: int = -1,
                 ridge: float = 1e-2,
                 batch_size: int = 8,
                 ignore_index: int = 255) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = interval
        self.dataset_cfgs = dict(
            train=copy.deepcopy(train_dataset or SYNTHETIC_PROBE_TRAIN),
            val=copy.deepcopy(val_dataset or SYNTHETIC_PROBE_VAL))
        self.level = level
        self.ridge = ridge
        self.batch_size = batch_size
        self.ignore_index = ignore_index
        self.datasets = None
        self.seconds = []  # wall time of each probe
        self.start_miou = None  # probe of the weights the run started from
        self.start_label = 'random init'

    def before_train(self, runner) -> None:
        """Probe the starting weights (once per run, main process)."""
        if self.start_miou is not None or runner.iter > 0 or \
                not is_main_process():
            return
        if runner.cfg.get('load_from'):
            self.start_label = 'the loaded weights'
        start = time.perf_counter()
        self.start_miou = self.probe(self._model(runner))
        runner.visualizer.add_scalars(dict(probe_miou=self.start_miou),
                                      step=0)
        print_log(
            f'probe_miou {self.start_miou:.2f} of {self.start_label} (the '
            'reference of this run\'s probes; linear probe: '
            f'{len(self.datasets["train"])} train / '
            f'{len(self.datasets["val"])} val images, '
            f'{time.perf_counter() - start:.1f} s)',
            logger='current')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.start_miou is not None:
            meta = checkpoint.setdefault('meta', {})
            meta['probe_miou_start'] = float(self.start_miou)
            meta['probe_start'] = self.start_label

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """A resumed run takes its reference from the checkpoint."""
        meta = checkpoint.get('meta') or {}
        if runner.cfg.get('resume', False) and 'probe_miou_start' in meta:
            self.start_miou = float(meta['probe_miou_start'])
            self.start_label = str(meta.get('probe_start', 'random init'))

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(
            runner.model) else runner.model

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not self.every_n_train_iters(runner, self.interval) or \
                not is_main_process():
            return
        start = time.perf_counter()
        miou = self.probe(self._model(runner))
        self.seconds.append(time.perf_counter() - start)
        runner.visualizer.add_scalars(dict(probe_miou=miou),
                                      step=runner.iter + 1)
        reference = '' if self.start_miou is None else \
            f'{self.start_label} {self.start_miou:.2f}; '
        print_log(
            f'probe_miou {miou:.2f} at iteration {runner.iter + 1} '
            f'({reference}linear probe: {len(self.datasets["train"])} train '
            f'/ {len(self.datasets["val"])} val images, '
            f'{self.seconds[-1]:.1f} s)',
            logger='current')

    def _build_datasets(self) -> None:
        """Build both sets; the class count is the train set's (its
        ``metainfo['classes']``), which the val set must share."""
        from mmseg.registry import DATASETS
        self.datasets = {
            split: DATASETS.build(dict(cfg, _scope_='mmseg'))
            for split, cfg in self.dataset_cfgs.items()
        }
        classes = {split: tuple(dataset.metainfo['classes'])
                   for split, dataset in self.datasets.items()}
        if classes['train'] != classes['val']:
            raise ValueError(
                'DenseProbeHook: train_dataset and val_dataset have other '
                f'classes ({len(classes["train"])}: {classes["train"][:4]}'
                f'... vs {len(classes["val"])}: {classes["val"][:4]}...); '
                'the probe needs one class list')
        self.num_classes = len(classes['train'])

    @torch.no_grad()
    def _features(self, model, dataset) -> Tuple[torch.Tensor, torch.Tensor]:
        """Backbone features [N, C, h, w] and labels [N, H, W] of a set."""
        feats, labels = [], []
        for first in range(0, len(dataset), self.batch_size):
            items = [dataset[i] for i in range(
                first, min(first + self.batch_size, len(dataset)))]
            try:
                images = torch.stack([item['inputs'] for item in items])
                labels.append(torch.stack([
                    item['data_samples'].gt_sem_seg.data[0] for item in items
                ]))
            except RuntimeError as e:
                raise ValueError(
                    'DenseProbeHook needs images of one size: add a Resize '
                    f'to the probe datasets\' pipeline ({e})') from e
            inputs = model.data_preprocessor(
                dict(inputs=[images], data_samples=None), False)['inputs']
            feats.append(model.backbone(inputs[0])[self.level].float().cpu())
        labels = torch.cat(labels).long()
        outside = (labels != self.ignore_index) & (
            (labels < 0) | (labels >= self.num_classes))
        if outside.any():
            raise ValueError(
                f'DenseProbeHook: {type(dataset).__name__} has label '
                f'{int(labels[outside].max())} but {self.num_classes} '
                'classes (metainfo["classes"]); labels must be 0..'
                f'{self.num_classes - 1} or ignore_index '
                f'{self.ignore_index}')
        return torch.cat(feats), labels

    def probe(self, model) -> float:
        """Fit on the train set, return the val mIoU (%) of ``model``'s
        backbone (its training state is restored)."""
        if self.datasets is None:
            self._build_datasets()
        was_training = model.backbone.training
        model.backbone.eval()
        try:
            train_x, train_y = self._features(model, self.datasets['train'])
            val_x, val_y = self._features(model, self.datasets['val'])
        finally:
            model.backbone.train(was_training)
        classifier = fit_linear_classifier(
            train_x, labels_on_grid(train_y, train_x.shape[-2:]),
            self.num_classes, self.ignore_index, self.ridge)
        logits = F.interpolate(classifier.logits(val_x),
                               size=tuple(val_y.shape[-2:]),
                               mode='bilinear', align_corners=False)
        return segmentation_miou(logits.argmax(dim=1), val_y,
                                 self.num_classes, self.ignore_index)
