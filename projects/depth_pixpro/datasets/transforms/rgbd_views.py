"""Paired RGB-D views for depth-aware PixPro.

Every view of a sample keeps three aligned things: the image, the depth map
and the crop box ``coord``, written in PixPro's convention by
:mod:`projects.depth_pixpro.coord` (``x / (W - 1)``, ``y / (H - 1)``,
inclusive corners; a horizontal flip swaps ``x_ul`` and ``x_lr``).

Results-dict convention: ``img`` HxWx3 uint8 BGR, ``depth`` HxW float32
metres with 0 = invalid. Photometric transforms of mmpretrain (ColorJitter,
RandomGrayscale, GaussianBlur, Solarize, RandomApply) only touch ``img`` and
are used directly inside the view pipelines.
"""
import copy
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform, Compose
from mmcv.transforms.utils import cache_randomness
from mmengine.registry import DefaultScope
from mmpretrain.datasets.transforms import PackInputs, RandomResizedCrop
from mmpretrain.registry import TRANSFORMS

from ... import structures as K
from ...coord import FULL_COORD, compose_coord, crop_box_to_coord, flip_coord

#: A source image whose shorter side is smaller than the views' by more than
#: this factor gives views that are (nearly) flat patches (a 1x1 image: one
#: colour).
MAX_UPSAMPLING = 4


class TinyImageWarning(UserWarning):
    """An image so much smaller than its views that they are flat."""


def resize_depth(depth: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a depth map (or any map) to
    ``size=(h, w)``.

    Uses pixel-centre aligned nearest (``cv2.INTER_NEAREST_EXACT``), the same
    sampling geometry as the bilinear image resize, so depth stays aligned
    with the image and is never blended across depth edges.
    """
    h, w = size
    if depth.shape[:2] == (h, w):
        return depth
    return cv2.resize(
        depth, (w, h), interpolation=cv2.INTER_NEAREST_EXACT)


def valid_depth_range(depth: Optional[np.ndarray]) -> np.ndarray:
    """(min, max) of the valid (finite, > 0) values of a depth map.

    Args:
        depth (np.ndarray, optional): HxW depth, 0 = invalid.

    Returns:
        np.ndarray: float32 [2]; (0, 0) when ``depth`` is None or has no
        valid value.
    """
    if depth is None:
        return np.zeros(2, np.float32)
    depth = np.asarray(depth)
    valid = depth[np.isfinite(depth) & (depth > 0)]
    if valid.size == 0:
        return np.zeros(2, np.float32)
    return np.array([valid.min(), valid.max()], np.float32)


def check_loaded(results: dict) -> None:
    """Refuse a sample whose files were never loaded.

    A dataset of files (NYUv2, ScanNet, folders) gives paths; its pipeline
    must load them before the views (the synthetic rooms come loaded, so a
    pipeline copied from their config has no loading steps).

    Raises:
        ValueError: No ``img`` (names ``img_path``), or a depth file named
            but not loaded (``depth_map_path`` without ``depth``: the sample
            would silently train without depth).
    """
    fix = ("add dict(type='LoadImageFromFile') and dict(type='LoadDepth') "
           'before RGBDMultiView (as configs/_base_/datasets/'
           'rgbd_views_224.py does)')
    if K.IMG not in results:
        raise ValueError(
            f'the pipeline has no image loading step (sample '
            f'{results.get(K.IMG_PATH, "without img_path")} has no '
            f"'{K.IMG}'): {fix}")
    if results.get(K.DEPTH_PATH) and K.DEPTH not in results:
        raise ValueError(
            f'the pipeline has no depth loading step (sample '
            f'{results[K.DEPTH_PATH]} has no \'{K.DEPTH}\'): {fix}')


@TRANSFORMS.register_module()
class RGBDRandomResizedCrop(RandomResizedCrop):
    """Random resized crop of the image AND its depth with the same box.

    The box is sampled exactly as by mmpretrain's ``RandomResizedCrop``
    (whose parameter sampling this class reuses); the image is resized with
    ``interpolation`` (bilinear by default), the depth with nearest
    neighbour. The box is recorded in ``coord``; if the view was already
    cropped or flipped (``coord`` present), the new box is composed with it,
    so ``coord`` always refers to the image given to the view pipeline.

    **Required Keys:** ``img``; optional ``depth``, ``coord``.

    **Modified Keys:** ``img``, ``img_shape``, ``depth`` (if present).

    **Added Keys:** ``coord`` (np.float32 [4]).

    The arguments are those of mmpretrain's ``RandomResizedCrop``.

    Args:
        scale (int | Sequence[int]): Output size, an int for square crops or
            ``(h, w)``.
        crop_ratio_range (tuple[float, float]): Range of the crop area
            relative to the image area. Defaults to (0.08, 1.0).
        aspect_ratio_range (tuple[float, float]): Range of the crop aspect
            ratio. Defaults to (3/4, 4/3).
        max_attempts (int): Attempts before falling back to a central crop.
            Defaults to 10.
        interpolation (str): Image interpolation. Defaults to 'bilinear'.
            'nearest' uses the same pixel-centre nearest as the depth.
        backend (str): Image resize backend. Defaults to 'cv2'.
    """

    def __init__(self,
                 scale: Union[int, Sequence[int]],
                 crop_ratio_range: Tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: Tuple[float, float] = (3. / 4.,
                                                            4. / 3.),
                 max_attempts: int = 10,
                 interpolation: str = 'bilinear',
                 backend: str = 'cv2') -> None:
        super().__init__(
            scale=scale,
            crop_ratio_range=crop_ratio_range,
            aspect_ratio_range=aspect_ratio_range,
            max_attempts=max_attempts,
            interpolation=interpolation,
            backend=backend)

    def transform(self, results: dict) -> dict:
        """Crop and resize image and depth with one random box.

        Args:
            results (dict): Result dict with ``img`` (and ``depth``).

        Returns:
            dict: The result dict with the cropped view and its ``coord``.
        """
        img = results['img']
        img_h, img_w = img.shape[:2]
        depth = results.get('depth')
        if depth is not None and depth.shape[:2] != (img_h, img_w):
            raise ValueError(
                f'depth shape {depth.shape[:2]} differs from image shape '
                f'{(img_h, img_w)}; resize depth to the image (LoadDepth) '
                'before cropping')
        top, left, crop_h, crop_w = self.rand_crop_params(img)
        out_h, out_w = self.scale

        img = img[top:top + crop_h, left:left + crop_w]
        if self.interpolation == 'nearest':
            # same pixel-centre sampling as the depth, so both stay aligned
            results['img'] = resize_depth(img, (out_h, out_w))
        else:
            results['img'] = mmcv.imresize(
                img, (out_w, out_h),
                interpolation=self.interpolation,
                backend=self.backend)
        results['img_shape'] = results['img'].shape[:2]
        if depth is not None:
            results['depth'] = resize_depth(
                depth[top:top + crop_h, left:left + crop_w], (out_h, out_w))

        box = crop_box_to_coord(top, left, crop_h, crop_w, img_h, img_w)
        results['coord'] = compose_coord(
            results.get('coord', FULL_COORD), box)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, '
                f'interpolation={self.interpolation})')


@TRANSFORMS.register_module()
class RGBDRandomFlip(BaseTransform):
    """Horizontal flip of the image and its depth, recorded in ``coord`` by
    swapping ``coord[0]`` and ``coord[2]`` (PixPro convention).

    **Required Keys:** ``img``; optional ``depth``, ``coord``.

    **Modified Keys:** ``img``, ``depth``, ``coord`` (added as the full-image
    box if absent), ``flip``, ``flip_direction``.

    Args:
        prob (float): Probability of flipping. Defaults to 0.5.
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    @cache_randomness
    def _do_flip(self) -> bool:
        return bool(np.random.rand() < self.prob)

    def transform(self, results: dict) -> dict:
        """Flip (or not) one view.

        Args:
            results (dict): Result dict of one view.

        Returns:
            dict: The (possibly) flipped view.
        """
        coord = np.array(results.get('coord', FULL_COORD), dtype=np.float32)
        flip = self._do_flip()
        if flip:
            results['img'] = mmcv.imflip(results['img'], 'horizontal')
            if results.get('depth') is not None:
                results['depth'] = np.ascontiguousarray(
                    results['depth'][:, ::-1])
            coord = flip_coord(coord)
        results['coord'] = coord
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class RGBDMultiView(BaseTransform):
    """Several augmented views of one RGB-D sample (like mmpretrain's
    ``MultiView``, but every view keeps its image, depth and crop box).

    **Required Keys:** ``img``; optional ``depth`` (HxW float32, 0 =
    invalid) and ``depth_kind``. A sample of files that were never loaded
    (no ``img``, or ``depth_map_path`` without ``depth``) is an error that
    says to add ``LoadImageFromFile`` and ``LoadDepth`` (:func:`check_loaded`).

    **Modified Keys:** ``img`` (list of V view images).

    **Added Keys:** ``depth`` (np.float32 [V, h, w]; all zeros when the
    sample has no depth), ``coord`` (np.float32 [V, 4]), ``has_depth``
    (bool: False when the sample has no depth map or no valid depth pixel;
    the model then trains it exactly as PixPro), ``depth_kind`` (str, one
    of :data:`~projects.depth_pixpro.depth_kinds.DEPTH_KINDS`; ``'metric'``
    if the sample does not say), ``depth_range`` (np.float32 [2]: min and
    max of the valid depth of the WHOLE image, computed once before the
    views are cropped, so that every crop of the image can be normalised
    alike; (0, 0) without depth).

    Args:
        transforms (list[list[dict | callable]]): One pipeline per group of
            views (e.g. PixPro's two asymmetric pipelines).
        num_views (int | list[int]): Views drawn from each pipeline.
    """

    def __init__(self, transforms: List[list],
                 num_views: Union[int, List[int]]) -> None:
        if isinstance(num_views, int):
            num_views = [num_views] * len(transforms)
        if len(num_views) != len(transforms):
            raise ValueError(
                f'num_views {num_views} must give one count per pipeline '
                f'({len(transforms)} pipelines)')
        self.num_views = list(num_views)
        # Nested configs (RandomApply, ...) are built by mmcv's Compose from
        # the root registry; outside a Runner there is no default scope, so
        # resolve names in mmpretrain's (where these transforms live).
        scope = (None if DefaultScope.get_current_instance() is not None else
                 'mmpretrain')
        with DefaultScope.overwrite_default_scope(scope):
            self.pipelines = [Compose(t) for t in transforms]
        self.view_pipelines = [
            p for p, n in zip(self.pipelines, self.num_views)
            for _ in range(n)
        ]
        #: Images upsampled more than MAX_UPSAMPLING x (per worker).
        self.num_tiny = 0

    def transform(self, results: dict) -> Optional[dict]:
        """Build the views.

        Args:
            results (dict): Result dict of one sample.

        Returns:
            dict: ``results`` with ``img`` (list), ``depth``, ``coord``.
        """
        check_loaded(results)
        depth_range = valid_depth_range(results.get(K.DEPTH))
        has_depth = bool(depth_range[1] > 0)
        source_hw = results[K.IMG].shape[:2]
        imgs, depths, coords = [], [], []
        for pipeline in self.view_pipelines:
            view = pipeline(copy.deepcopy(results))
            if view is None:  # a transform dropped the sample
                return None
            img = view['img']
            imgs.append(img)
            depths.append(view[K.DEPTH] if has_depth else np.zeros(
                img.shape[:2], dtype=np.float32))
            coords.append(view.get(K.COORD, FULL_COORD))

        shapes = {img.shape[:2] for img in imgs}
        if len(shapes) != 1:
            raise ValueError(
                f'all views must have the same size, got {sorted(shapes)}; '
                'use the same crop size in every view pipeline')
        if any(d.shape[:2] != imgs[0].shape[:2] for d in depths):
            raise ValueError('a view pipeline changed the image size without '
                             'the depth; use RGBD* transforms for geometry')
        self._check_upsampling(source_hw, imgs[0].shape[:2],
                               results.get(K.IMG_PATH))
        results[K.IMG] = imgs
        results[K.DEPTH] = np.stack(depths).astype(np.float32, copy=False)
        results[K.COORD] = np.stack(coords).astype(np.float32)
        results[K.HAS_DEPTH] = has_depth
        results[K.DEPTH_KIND] = results.get(K.DEPTH_KIND) or 'metric'
        results[K.DEPTH_RANGE] = depth_range
        results[K.IMG_SHAPE] = imgs[0].shape[:2]
        return results

    def _check_upsampling(self, source_hw, view_hw, path) -> None:
        """Count (and warn once per worker about) an image whose views
        upsample it more than :data:`MAX_UPSAMPLING` times."""
        if min(source_hw) * MAX_UPSAMPLING >= min(view_hw):
            return
        self.num_tiny += 1
        if self.num_tiny == 1:
            warnings.warn(
                f'Image {path or "(no path)"} is {source_hw[1]}x'
                f'{source_hw[0]} but its views are {view_hw[1]}x{view_hw[0]}'
                f': upsampled more than {MAX_UPSAMPLING}x, they are (nearly) '
                'flat patches that teach nothing. Leave such images out of '
                'the dataset (shown once per worker; counted in '
                'RGBDMultiView.num_tiny).', TinyImageWarning)

    def __repr__(self) -> str:
        repr_str = self.__class__.__name__ + '('
        for i, p in enumerate(self.pipelines):
            repr_str += f'\nPipeline {i + 1} with {self.num_views[i]} views:\n'
            repr_str += str(p)
        return repr_str + ')'


@TRANSFORMS.register_module()
class PackRGBDInputs(PackInputs):
    """Pack RGB-D views: ``inputs`` is the list of V CHW uint8 view tensors;
    the data sample carries, in the order of ``inputs``:

    * ``coord``: torch.float32 [V, 4] crop boxes;
    * ``depth``: torch.float32 [V, H, W], 0 = invalid (zeros without depth);
    * ``depth_range``: torch.float32 [2], (min, max) of the valid depth of
      the whole image before cropping, (0, 0) without depth;
    * metainfo ``has_depth`` (bool), ``depth_kind`` (str, one of
      :data:`~projects.depth_pixpro.depth_kinds.DEPTH_KINDS`) and
      mmpretrain's defaults (``img_path``, ...).

    Args:
        input_key (str): Key of the views. Defaults to 'img'.
        algorithm_keys (Sequence[str]): Extra keys set as data fields.
        meta_keys (Sequence[str]): Meta keys. Defaults to mmpretrain's
            defaults plus ``has_depth`` and ``depth_kind``.
    """

    RGBD_KEYS = (K.COORD, K.DEPTH)

    def __init__(self,
                 input_key: str = 'img',
                 algorithm_keys: Sequence[str] = (),
                 meta_keys: Sequence[str] = PackInputs.DEFAULT_META_KEYS +
                 (K.HAS_DEPTH, K.DEPTH_KIND)) -> None:
        super().__init__(input_key, tuple(algorithm_keys), meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack views, coords and depths.

        Args:
            results (dict): Output of :class:`RGBDMultiView`.

        Returns:
            dict: ``inputs`` (list of tensors) and ``data_samples``.
        """
        missing = [k for k in self.RGBD_KEYS if k not in results]
        if missing:
            raise KeyError(f'PackRGBDInputs needs {missing} in the results; '
                           'put RGBDMultiView before it in the pipeline')
        packed = super().transform(results)
        sample = packed['data_samples']
        sample.set_field(
            torch.as_tensor(np.asarray(results[K.COORD], np.float32)),
            K.COORD)
        sample.set_field(
            torch.from_numpy(
                np.ascontiguousarray(results[K.DEPTH], dtype=np.float32)),
            K.DEPTH)
        depth_range = results.get(K.DEPTH_RANGE)
        if depth_range is None:  # views built without RGBDMultiView
            depth_range = valid_depth_range(results[K.DEPTH])
        sample.set_field(
            torch.as_tensor(np.asarray(depth_range, np.float32)).reshape(2),
            K.DEPTH_RANGE)
        return packed
