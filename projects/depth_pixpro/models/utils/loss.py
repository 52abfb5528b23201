"""PixPro's pixel consistency loss over a mask of positive pairs."""
import torch
import torch.nn.functional as F
from torch import Tensor


def _flatten_features(feat: Tensor) -> Tensor:
    if feat.dim() == 4:
        return feat.flatten(2)
    if feat.dim() == 3:
        return feat
    raise ValueError('features must be [N, C, H, W] or [N, C, H*W], got '
                     f'{tuple(feat.shape)}')


def pixel_cosine_similarity(pred_q: Tensor, target_k: Tensor) -> Tensor:
    """Cosine similarity of every (query pixel, key pixel) pair, in float32.

    Normalisation and the product run in float32 even under autocast: the
    matrix feeds sums over HW^2 entries that lose precision in fp16.

    Args:
        pred_q (Tensor): [N, C, H, W] or [N, C, H*W].
        target_k (Tensor): Same shape as ``pred_q``.

    Returns:
        Tensor: float32 [N, H*W, H*W].
    """
    q = _flatten_features(pred_q)
    k = _flatten_features(target_k)
    if q.shape != k.shape:
        raise ValueError('pred_q and target_k must have the same shape, got '
                         f'{tuple(pred_q.shape)} and {tuple(target_k.shape)}')
    with torch.autocast(device_type=q.device.type, enabled=False):
        q = F.normalize(q.float(), dim=1)
        k = F.normalize(k.float(), dim=1)
        return torch.bmm(q.transpose(1, 2), k)


def masked_cosine_loss(cos: Tensor, mask: Tensor) -> Tensor:
    """PixPro loss from a precomputed cosine matrix.

    Per image n, L_n = sum_ij cos_ij m_ij / (sum_ij m_ij + 1e-6), and the
    loss is -2 * mean_n L_n. An image without positives contributes 0.

    Args:
        cos (Tensor): [N, HW, HW] cosine similarities.
        mask (Tensor): bool [N, HW, HW] positives.

    Returns:
        Tensor: float32 scalar.
    """
    if cos.shape != mask.shape:
        raise ValueError(f'cos {tuple(cos.shape)} and mask '
                         f'{tuple(mask.shape)} must have the same shape')
    with torch.autocast(device_type=cos.device.type, enabled=False):
        mask = mask.float()
        total = (cos.float() * mask).sum(dim=(1, 2))
        count = mask.sum(dim=(1, 2))
        return -2. * (total / (count + 1e-6)).mean()


def pixel_consistency_loss(pred_q: Tensor, target_k: Tensor,
                           mask: Tensor) -> Tensor:
    """PixPro's pixel-to-propagation consistency loss for one view order.

    The loss of training: the head computes :func:`pixel_cosine_similarity`
    once per level and view order and :func:`masked_cosine_loss` of it per
    scale, which is this function of each scale's mask.

    Args:
        pred_q (Tensor): Online predictions [N, C, H, W] or [N, C, H*W].
        target_k (Tensor): Target features of the other view, same shape
            (gradients are not stopped here; the caller detaches).
        mask (Tensor): bool [N, H*W, H*W] positives.

    Returns:
        Tensor: float32 scalar.
    """
    return masked_cosine_loss(pixel_cosine_similarity(pred_q, target_k), mask)
