"""PixPro's math written from design.md with loops in float64.

Independent of the package: no import from ``projects.depth_pixpro``, so the
head, the propagation module and the functional contract can be held
against it (a bug shared by the code and its reference cannot hide here).
"""
import math

import torch
import torch.nn as nn


def ref_bin_centres(box, size):
    """Bin centres (h-major) and the bin diagonal of one crop box."""
    height, width = size
    x_ul, y_ul, x_lr, y_lr = [float(v) for v in box]
    bw, bh = (x_lr - x_ul) / width, (y_lr - y_ul) / height
    centres = [((w + 0.5) * bw + x_ul, (h + 0.5) * bh + y_ul)
               for h in range(height) for w in range(width)]
    return centres, math.hypot(bw, bh)


def ref_spatial_ratio(box_q, box_k, size):
    """dist(c_i, c_j) / max(diag_q, diag_k) for every (query, key) bin."""
    cq, dq = ref_bin_centres(box_q, size)
    ck, dk = ref_bin_centres(box_k, size)
    return [[math.hypot(xq - xk, yq - yk) / max(dq, dk) for xk, yk in ck]
            for xq, yq in cq]


def ref_cos(a, b):
    """Cosine of two 1-D float64 tensors."""
    return float(a @ b) / (float(a.norm()) * float(b.norm()))


def ref_transform(feat, layers):
    """g of one image: a list of 1x1 layers applied pixel by pixel.

    Args:
        feat (Tensor): [C, HW] float64.
        layers (list): ``('linear', W, b)`` entries, or ``('bn_relu',
            mean, var, weight, bias, eps)`` with the batch statistics.
    """
    out = feat
    for layer in layers:
        if layer[0] == 'linear':
            _, weight, bias = layer
            out = torch.stack([weight @ out[:, j] + bias
                               for j in range(out.shape[1])], dim=1)
        else:
            _, mean, var, gamma, beta, eps = layer
            out = (out - mean[:, None]) / torch.sqrt(var[:, None] + eps)
            out = (out * gamma[:, None] + beta[:, None]).clamp(min=0)
    return out


def ref_ppm(feat, layers, gamma=2., clamp_min=0.):
    """Pixel propagation of one image, loop over pixel pairs.

    v_j = normalize(g(x_j)); A_ij = clamp(cos(x_i, x_j), clamp_min)^gamma;
    y_i = normalize(sum_j A_ij v_j).

    Args:
        feat (Tensor): [C, HW] features x of one image.
        layers (list): The transform g, see :func:`ref_transform`.

    Returns:
        Tensor: [C, HW] float64.
    """
    x = feat.double()
    g = ref_transform(x, layers)
    hw = x.shape[1]
    value = [g[:, j] / g[:, j].norm() for j in range(hw)]
    out = []
    for i in range(hw):
        acc = torch.zeros(x.shape[0], dtype=torch.float64)
        for j in range(hw):
            affinity = max(ref_cos(x[:, i], x[:, j]), clamp_min)**gamma
            acc = acc + affinity * value[j]
        out.append(acc / acc.norm())
    return torch.stack(out, dim=1)


def ref_pair_loss(pred, target, positive):
    """-2 * mean_n [sum_ij cos(y_i, x'_j) m_ij / (sum_ij m_ij + 1e-6)].

    Args:
        pred (list[Tensor]): Per image [C, HW] predictions y.
        target (list[Tensor]): Per image [C, HW] target features x'.
        positive (callable): ``positive(n, i, j) -> bool``.
    """
    per_image = []
    for n, (y, t) in enumerate(zip(pred, target)):
        total, count = 0., 0
        for i in range(y.shape[1]):
            for j in range(t.shape[1]):
                if positive(n, i, j):
                    total += ref_cos(y[:, i].double(), t[:, j].double())
                    count += 1
        per_image.append(total / (count + 1e-6))
    return -2. * sum(per_image) / len(per_image)


def conv_layers(module):
    """The ``('linear', W, b)`` list of a 1x1 ``nn.Conv2d``."""
    weight = module.weight.detach().double()[:, :, 0, 0]
    return [('linear', weight, module.bias.detach().double())]


def convs_of(module):
    """The 1x1 convolutions of a propagation module, in forward order."""
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]
