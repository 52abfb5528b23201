"""A plain-PyTorch PixPro training step: the speed baseline of train_step.py.

Written from the paper (Xie et al., "Propagate Yourself", CVPR 2021) and the
official recipe (``contrast/models/PixPro.py`` of the authors' code) with
torch and torchvision only; nothing of ``projects.depth_pixpro`` or of
OpenMMLab computes the model, so our step's speed is measured against an
outside-free reference in the same process:

* encoder: torchvision ResNet up to C5 (no pooling, no fc);
* projector: ``MLP2d`` (1x1 conv 4096 with bias -> BN -> ReLU -> 1x1 conv
  256), the same for the momentum target;
* pixel propagation: one 1x1-conv value transform, cosine similarity
  clamped at 0 to the power gamma = 2;
* loss: mean over images of sum_ij cos(y_i, x'_j) m_ij / (sum_ij m_ij +
  1e-6), m_ij = bin-centre distance / max bin diagonal < 0.7, times -2,
  summed over both view orders;
* momentum target: tau_k = 1 - (1 - 0.99) (cos(pi k / K) + 1) / 2, updated by
  a Python loop over the parameters, as the official code does, BEFORE the
  target's forward; the target keeps its own BN statistics.

:class:`PlainPixProStep` adds what a training step needs around it: the
uint8 -> normalised float conversion of the views (BGR -> RGB, the
ImageNet mean and std, as ``SelfSupDataPreprocessor``), fp16 autocast with
a gradient scaler (``amp=True``) and an SGD step.
"""
import copy
import math
from collections import OrderedDict
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch import Tensor

#: ImageNet mean / std on the 0-255 scale (RGB).
MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)


def resnet_encoder(depth: int) -> nn.Sequential:
    """torchvision ResNet-``depth`` up to C5 (stride 32), randomly
    initialised; its state-dict keys are torchvision's (``conv1``, ``bn1``,
    ``layer1`` ...)."""
    net = getattr(torchvision.models, f'resnet{depth}')(weights=None)
    return nn.Sequential(OrderedDict(
        (name, getattr(net, name))
        for name in ('conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2',
                     'layer3', 'layer4')))


class MLP2d(nn.Module):
    """Official PixPro's projector: conv1x1 -> BN -> ReLU -> conv1x1."""

    def __init__(self, in_dim: int, inner_dim: int = 4096,
                 out_dim: int = 256) -> None:
        super().__init__()
        self.linear1 = nn.Conv2d(in_dim, inner_dim, 1)
        self.bn1 = nn.BatchNorm2d(inner_dim)
        self.relu1 = nn.ReLU(inplace=True)
        self.linear2 = nn.Conv2d(inner_dim, out_dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear2(self.relu1(self.bn1(self.linear1(x))))


def regression_loss(q: Tensor, k: Tensor, coord_q: Tensor, coord_k: Tensor,
                    pos_ratio: float = 0.7) -> Tensor:
    """PixPro's loss of one view order.

    Args:
        q (Tensor): Normalised propagated features [N, C, H, W].
        k (Tensor): Normalised target features [N, C, H, W].
        coord_q (Tensor): Crop boxes [N, 4] (x_ul, y_ul, x_lr, y_lr).
        coord_k (Tensor): Same for the key view.
        pos_ratio (float): Spatial threshold T.

    Returns:
        Tensor: Scalar loss.
    """
    n, c, h, w = q.shape
    q, k = q.view(n, c, -1), k.view(n, c, -1)
    x = torch.arange(w, dtype=coord_q.dtype, device=coord_q.device)
    y = torch.arange(h, dtype=coord_q.dtype, device=coord_q.device)
    x = x.view(1, 1, -1).expand(1, h, w)
    y = y.view(1, -1, 1).expand(1, h, w)

    def centres(coord):
        bin_w = ((coord[:, 2] - coord[:, 0]) / w).view(-1, 1, 1)
        bin_h = ((coord[:, 3] - coord[:, 1]) / h).view(-1, 1, 1)
        cx = (x + 0.5) * bin_w + coord[:, 0].view(-1, 1, 1)
        cy = (y + 0.5) * bin_h + coord[:, 1].view(-1, 1, 1)
        return cx.reshape(n, -1), cy.reshape(n, -1), \
            torch.sqrt(bin_w**2 + bin_h**2)

    qx, qy, q_diag = centres(coord_q)
    kx, ky, k_diag = centres(coord_k)
    dist = torch.sqrt((qx[:, :, None] - kx[:, None, :])**2 +
                      (qy[:, :, None] - ky[:, None, :])**2)
    pos_mask = (dist / torch.max(q_diag, k_diag) < pos_ratio).float()
    logit = torch.bmm(q.transpose(1, 2), k)
    loss = (logit * pos_mask).sum(dim=(1, 2)) / (pos_mask.sum(dim=(1, 2)) +
                                                 1e-6)
    return -2 * loss.mean()


class PlainPixPro(nn.Module):
    """PixPro (no instance branch) with a momentum target.

    Args:
        depth (int): ResNet depth (18, 34, 50, ...).
        inner_dim (int): Projector hidden channels. Defaults to 4096.
        out_dim (int): Projector output channels. Defaults to 256.
        total_steps (int): K of the momentum schedule.
        base_momentum (float): tau_0. Defaults to 0.99.
        gamma (float): PPM sharpness. Defaults to 2.
        pos_ratio (float): Spatial threshold T. Defaults to 0.7.
    """

    def __init__(self, depth: int = 50, inner_dim: int = 4096,
                 out_dim: int = 256, total_steps: int = 10**6,
                 base_momentum: float = 0.99, gamma: float = 2.,
                 pos_ratio: float = 0.7) -> None:
        super().__init__()
        self.encoder = resnet_encoder(depth)
        in_dim = self.encoder.layer4[-1].conv1.in_channels
        self.projector = MLP2d(in_dim, inner_dim, out_dim)
        self.value_transform = nn.Conv2d(out_dim, out_dim, 1)
        self.encoder_k = copy.deepcopy(self.encoder)
        self.projector_k = copy.deepcopy(self.projector)
        for param in self.target_parameters():
            param.requires_grad = False
        self.total_steps = total_steps
        self.base_momentum = base_momentum
        self.gamma = gamma
        self.pos_ratio = pos_ratio
        self.step = 0

    def target_parameters(self):
        """Parameters of the momentum target."""
        return [*self.encoder_k.parameters(), *self.projector_k.parameters()]

    def online_parameters(self):
        """The online parameters the target tracks, in the same order."""
        return [*self.encoder.parameters(), *self.projector.parameters()]

    @torch.no_grad()
    def momentum_update(self) -> None:
        """One target update with tau_k, k = updates so far (official)."""
        tau = 1. - (1. - self.base_momentum) * (
            math.cos(math.pi * self.step / self.total_steps) + 1) / 2.
        self.step += 1
        for param_q, param_k in zip(self.online_parameters(),
                                    self.target_parameters()):
            param_k.data = param_k.data * tau + param_q.data * (1. - tau)

    def featprop(self, feat: Tensor) -> Tensor:
        """Pixel propagation: y_i = sum_j clamp(cos(x_i, x_j), 0)^gamma
        normalize(g(x_j)) (normalised by the caller)."""
        n, c, h, w = feat.shape
        value = F.normalize(self.value_transform(feat), dim=1).view(n, c, -1)
        feat = F.normalize(feat, dim=1).view(n, c, -1)
        attention = torch.bmm(feat.transpose(1, 2), feat).clamp(min=0.)
        attention = attention**self.gamma
        return torch.bmm(value, attention.transpose(1, 2)).view(n, c, h, w)

    def forward(self, im_1: Tensor, im_2: Tensor, coord_1: Tensor,
                coord_2: Tensor) -> Tensor:
        """Loss of a batch of view pairs (both view orders summed).

        Args:
            im_1, im_2 (Tensor): Normalised views [N, 3, H, W].
            coord_1, coord_2 (Tensor): Their crop boxes [N, 4].
        """
        pred_1 = F.normalize(self.featprop(self.projector(self.encoder(im_1))),
                             dim=1)
        pred_2 = F.normalize(self.featprop(self.projector(self.encoder(im_2))),
                             dim=1)
        with torch.no_grad():
            self.momentum_update()
            proj_1 = F.normalize(self.projector_k(self.encoder_k(im_1)), dim=1)
            proj_2 = F.normalize(self.projector_k(self.encoder_k(im_2)), dim=1)
        return (regression_loss(pred_1, proj_2, coord_1, coord_2,
                                self.pos_ratio) +
                regression_loss(pred_2, proj_1, coord_2, coord_1,
                                self.pos_ratio))


class PlainPixProStep:
    """One training step of :class:`PlainPixPro`: normalise the uint8 BGR
    views, forward (fp16 autocast if ``amp``), backward, SGD step.

    Args:
        model (PlainPixPro): The model, on its device.
        lr (float): SGD learning rate. Defaults to 1e-3.
        amp (bool): fp16 autocast and a gradient scaler (CUDA). Defaults to
            False.
    """

    def __init__(self, model: PlainPixPro, lr: float = 1e-3,
                 amp: bool = False) -> None:
        self.model = model
        device = next(model.parameters()).device
        self.optimizer = torch.optim.SGD(
            [p for p in model.parameters() if p.requires_grad], lr=lr,
            momentum=0.9)
        self.amp = amp
        self.scaler = torch.amp.GradScaler(device.type, enabled=amp)
        self.mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(STD, device=device).view(1, 3, 1, 1)

    def normalise(self, view: Tensor) -> Tensor:
        """uint8 BGR [N, 3, H, W] -> normalised float RGB."""
        return (view.flip(1).float() - self.mean) / self.std

    def __call__(self, views, coord: Tensor) -> Tensor:
        """Train on one batch; the detached loss (no host sync).

        Args:
            views (Sequence[Tensor]): The 2 uint8 views [N, 3, H, W].
            coord (Tensor): Crop boxes [N, 2, 4].
        """
        device_type = coord.device.type
        with torch.autocast(device_type, dtype=torch.float16,
                            enabled=self.amp):
            loss = self.model(self.normalise(views[0]),
                              self.normalise(views[1]), coord[:, 0],
                              coord[:, 1])
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()


def build_plain_step(depth: int = 50, inner_dim: int = 4096,
                     out_dim: int = 256, device: Optional[str] = None,
                     amp: bool = False, seed: int = 0) -> PlainPixProStep:
    """A :class:`PlainPixProStep` with seeded weights on ``device``."""
    torch.manual_seed(seed)
    model = PlainPixPro(depth, inner_dim, out_dim).to(device).train()
    return PlainPixProStep(model, amp=amp)
