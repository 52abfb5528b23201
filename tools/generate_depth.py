"""Monocular depth for RGB-only datasets, from a LOCAL Hugging Face model.

Runs a ``transformers`` depth model (``AutoModelForDepthEstimation`` +
``AutoImageProcessor``: Depth Anything (V2), DPT/MiDaS, ZoeDepth, GLPN, ...)
from a local directory only (``config.json``, ``model.safetensors``,
``preprocessor_config.json``, as ``save_pretrained`` or a hub snapshot
writes; nothing is downloaded: ``HF_HUB_OFFLINE=1``) on every image of a
folder, and writes per image, keeping the sub-folders::

    OUT_DIR/<name>.png    single-channel uint16 depth
    OUT_DIR/<name>.json   what the values mean (see below)

plus ``OUT_DIR/depth_info.json`` (kind and scale of the whole folder, and the
dataset settings to use). Images already done (PNG + JSON present) are
skipped, so an interrupted run resumes where it stopped; a rerun that would
write another kind into the folder is refused unless ``--overwrite`` (then
every image is predicted again). Symlinked folders are followed, each real
image once (loops end); an output folder inside the input folder is not
read as input, and the input folder itself is refused as output::

    pip install -r requirements/depth.txt
    python tools/generate_depth.py data/mydata/rgb data/mydata/depth \
        --model checkpoints/Depth-Anything-V2-Small-hf --batch-size 8

Encoding (``depth_kind`` / ``depth_scale`` are the arguments of
``RGBDFolderDataset`` and ``LoadDepth`` that read it back):

* ``metric`` (ZoeDepth, GLPN, Depth Pro, Depth-Anything ``*-Metric-*``):
  millimetres, ``depth_scale=1000`` (LoadDepth gives metres); values <= 0 or
  beyond 65.535 m are stored as 0 = invalid.
* ``affine`` (the default of non-metric models: DPT/MiDaS and relative
  Depth Anything predict affine-invariant inverse depth, larger = nearer,
  up to an unknown scale AND shift): per image min-max normalised to
  1..65535 (0 stays free for invalid), ``depth_scale=65535``; the JSON keeps
  the prediction's ``min``/``max`` (value = min + (raw - 1) / 65534 *
  (max - min)). A min-max normalised map is itself only known up to scale
  and shift, so the folder's kind is ``affine``.
* ``inverse`` or ``scale_free`` (``--kind``): known up to a scale only,
  so only scaled per image, ``raw = round(value / max * 65535)`` (values
  <= 0 invalid), which keeps the kind; ``depth_scale=65535``, value = raw /
  65535 * max.

The encoding is ``encode_depth_by_kind`` of
``projects/depth_pixpro/datasets/depth_io.py``.

``RGBDFolderDataset`` picks kind and scale up from ``depth_info.json``;
train non-metric kinds with ``DepthPairFilter(mode='normalized')``.

EXIF orientation: an image is read as it is shown, turned by its EXIF
orientation (as OpenCV and ``LoadImageFromFile`` read it back for
training), batched with images of its displayed size, and its depth is
written in that orientation; the run says how many images carry an EXIF
rotation and each JSON keeps ``exif_orientation`` (1 = as stored).
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from projects.depth_pixpro.datasets.base_rgbd import walk_files
from projects.depth_pixpro.datasets.depth_io import (DEPTH_INFO_FILE,
                                                     MM_PER_METRE, UINT16_MAX,
                                                     encode_depth_by_kind)
from projects.depth_pixpro.depth_kinds import DEPTH_KINDS
from projects.depth_pixpro.utils.atomic import write_image_atomic

#: Model types whose output is metric depth whatever their config says.
METRIC_MODEL_TYPES = ('zoedepth', 'glpn', 'depth_pro')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Predict depth maps with a local transformers model')
    parser.add_argument('img_dir', help='folder of RGB images (recursive)')
    parser.add_argument('out_dir', help='output folder of depth PNGs')
    parser.add_argument('--model', required=True,
                        help='LOCAL model directory (config.json, weights, '
                        'preprocessor_config.json)')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--ext', default='.png,.jpg,.jpeg',
                        help='comma-separated image suffixes')
    parser.add_argument('--kind',
                        choices=('auto', ) + DEPTH_KINDS,
                        default='auto',
                        help='what the model predicts; auto: metric for '
                        'metric models, else affine')
    parser.add_argument('--overwrite', action='store_true',
                        help='predict every image again, also when the '
                        'output folder holds another depth kind')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:i]')
    return parser.parse_args(argv)


def list_images(img_dir: str, exts: Sequence[str],
                exclude_dirs: Sequence[str] = ()) -> List[str]:
    """Image paths relative to ``img_dir``, sorted: each real image once
    (symlink loops end), nothing under ``exclude_dirs``."""
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image folder {img_dir} does not exist')
    exts = tuple(e.lower() if e.startswith('.') else '.' + e.lower()
                 for e in exts)
    found = walk_files(img_dir, lambda name: name.lower().endswith(exts),
                       exclude_dirs)
    if not found:
        raise FileNotFoundError(f'no image ending with {exts} in {img_dir}')
    return found


def output_paths(out_dir: str, rel: str) -> Tuple[str, str]:
    """(PNG, JSON) written for the image ``rel``."""
    stem = osp.splitext(rel)[0]
    return osp.join(out_dir, stem + '.png'), osp.join(out_dir, stem + '.json')


def is_done(out_dir: str, rel: str) -> bool:
    """The image has its PNG and a readable JSON (written last)."""
    png, meta = output_paths(out_dir, rel)
    if not (osp.isfile(png) and osp.isfile(meta)):
        return False
    try:
        with open(meta) as f:
            return 'depth_kind' in json.load(f)
    except (OSError, ValueError):
        return False


def model_depth_kind(config) -> str:
    """``'metric'`` or ``'affine'`` (affine-invariant inverse depth, as the
    relative models predict) from a transformers model config (an object
    or the dict of its ``config.json``)."""
    get = config.get if isinstance(config, dict) else \
        (lambda key, default=None: getattr(config, key, default))
    if get('depth_estimation_type') == 'metric' or \
            get('model_type') in METRIC_MODEL_TYPES:
        return 'metric'
    return 'affine'


def requested_kind(kind_arg: str, model_dir: str) -> str:
    """The kind this run writes: ``--kind``, or for ``auto`` the model's
    (read from its ``config.json``, without loading the weights)."""
    if kind_arg != 'auto':
        return kind_arg  # one of --kind's choices
    path = osp.join(model_dir, 'config.json')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'--model {model_dir} is not a local model directory: it needs '
            'config.json, model.safetensors (or pytorch_model.bin) and '
            'preprocessor_config.json, e.g. a downloaded hub snapshot of '
            'depth-anything/Depth-Anything-V2-Small-hf. This tool never '
            'downloads.')
    with open(path) as f:
        return model_depth_kind(json.load(f))


def check_not_input(img_dir: str, out_dir: str) -> None:
    """Refuse the input folder as output (its images would be replaced)."""
    if osp.realpath(out_dir) == osp.realpath(img_dir):
        raise ValueError(
            f'the output folder {out_dir} is the input folder: the depth '
            'PNGs would replace the images. Choose another output folder.')


def check_output_kind(out_dir: str, kind: str, overwrite: bool) -> None:
    """Refuse to add depth of another kind to a folder (old PNGs would stay
    under a new ``depth_info.json``), unless ``overwrite``."""
    info_path = osp.join(out_dir, DEPTH_INFO_FILE)
    if overwrite or not osp.isfile(info_path):
        return
    with open(info_path) as f:
        old = json.load(f).get('depth_kind')
    if old is not None and old != kind:
        raise ValueError(
            f'{out_dir} already holds depth of kind {old!r} '
            f'({DEPTH_INFO_FILE}); '
            f'this run writes kind {kind!r}. Pass --overwrite to predict '
            'every image again, or choose another output folder.')


def load_local_model(model_dir: str, device: str):
    """``(model, processor)`` from a local directory, never the hub."""
    if not osp.isdir(model_dir) or \
            not osp.isfile(osp.join(model_dir, 'config.json')):
        raise FileNotFoundError(
            f'--model {model_dir} is not a local model directory: it needs '
            'config.json, model.safetensors (or pytorch_model.bin) and '
            'preprocessor_config.json, e.g. a downloaded hub snapshot of '
            'depth-anything/Depth-Anything-V2-Small-hf. This tool never '
            'downloads.')
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
    try:
        from transformers import (AutoImageProcessor,
                                  AutoModelForDepthEstimation)
    except ImportError as e:
        raise SystemExit('generate_depth.py needs transformers: pip install '
                         f'-r requirements/depth.txt ({e})')
    model = AutoModelForDepthEstimation.from_pretrained(
        model_dir, local_files_only=True).to(device).eval()
    processor = AutoImageProcessor.from_pretrained(
        model_dir, local_files_only=True)
    return model, processor


def predict(model, processor, images: List[np.ndarray],
            device: str) -> List[np.ndarray]:
    """Depth of RGB images at their own resolution, in input order; images
    of one size share a forward pass (processors stack them)."""
    by_shape: Dict[Tuple[int, ...], List[int]] = {}
    for index, image in enumerate(images):
        by_shape.setdefault(image.shape, []).append(index)
    preds: List[Optional[np.ndarray]] = [None] * len(images)
    for indices in by_shape.values():
        same = _predict_same_size(model, processor,
                                  [images[i] for i in indices], device)
        for index, pred in zip(indices, same):
            preds[index] = pred
    return preds


def _predict_same_size(model, processor, images: List[np.ndarray],
                       device: str) -> List[np.ndarray]:
    """Depth of same-sized RGB images at their own resolution."""
    import torch
    inputs = processor(images=images, return_tensors='pt').to(device)
    with torch.no_grad():
        outputs = model(**inputs)
    sizes = [img.shape[:2] for img in images]
    if hasattr(processor, 'post_process_depth_estimation'):
        results = processor.post_process_depth_estimation(
            outputs, target_sizes=sizes)
        return [r['predicted_depth'].float().cpu().numpy() for r in results]
    pred = torch.nn.functional.interpolate(
        outputs.predicted_depth[:, None].float(), size=sizes[0],
        mode='bicubic', align_corners=False)[:, 0]
    return list(pred.cpu().numpy())


#: EXIF orientations that turn an image by 90 or 270 degrees on display.
_EXIF_TRANSPOSED = (5, 6, 7, 8)


def displayed_size(path: str) -> Tuple[Tuple[int, int], int]:
    """``((width, height), exif_orientation)`` of an image as OpenCV and
    mmcv's ``LoadImageFromFile`` read it: turned by its EXIF orientation
    (1 = as stored). Only the header is read.

    Raises:
        ValueError: Not an image (names the file).
    """
    from PIL import Image
    try:
        with Image.open(path) as img:
            (width, height) = img.size
            orientation = int(img.getexif().get(0x0112, 1) or 1)
    except (OSError, ValueError) as e:
        raise ValueError(f'cannot read image {path}: {e}') from e
    if orientation in _EXIF_TRANSPOSED:
        width, height = height, width
    return (width, height), orientation


def batches_by_size(img_dir: str, rels: List[str], batch_size: int,
                    orientations: Optional[Dict[str, int]] = None
                    ) -> List[List[str]]:
    """Group images of one displayed size (:func:`displayed_size`) into
    batches; ``orientations``, if given, receives each image's EXIF
    orientation."""
    by_size: Dict[Tuple[int, int], List[str]] = {}
    for rel in rels:
        size, orientation = displayed_size(osp.join(img_dir, rel))
        if orientations is not None:
            orientations[rel] = orientation
        by_size.setdefault(size, []).append(rel)
    batches = []
    for group in by_size.values():
        for start in range(0, len(group), batch_size):
            batches.append(group[start:start + batch_size])
    return batches


def read_rgb(path: str) -> np.ndarray:
    """HxWx3 uint8 RGB image."""
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f'cannot decode image {path}')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_info(out_dir: str, kind: str, scale: float, model) -> Dict:
    """Folder-level ``depth_info.json`` with the settings to read it."""
    info = dict(
        depth_kind=kind,
        depth_scale=scale,
        model_type=model.config.model_type,
        model_class=type(model).__name__,
        dataset=dict(type='RGBDFolderDataset', depth_dir=osp.basename(
            osp.normpath(out_dir)), depth_kind=kind, depth_scale=scale),
        depth_filter=dict(type='DepthPairFilter', mode='relative'
                          if kind == 'metric' else 'normalized'))
    with open(osp.join(out_dir, DEPTH_INFO_FILE), 'w') as f:
        json.dump(info, f, indent=2)
    return info


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    if args.batch_size < 1:
        raise ValueError(f'--batch-size must be >= 1, got {args.batch_size}')
    check_not_input(args.img_dir, args.out_dir)
    rels = list_images(args.img_dir, args.ext.split(','),
                       exclude_dirs=[args.out_dir])
    kind = requested_kind(args.kind, args.model)
    check_output_kind(args.out_dir, kind, args.overwrite)
    pending = rels if args.overwrite else [
        r for r in rels if not is_done(args.out_dir, r)]
    print(f'{len(rels)} images, {len(rels) - len(pending)} already done, '
          f'{len(pending)} to predict')
    info_path = osp.join(args.out_dir, DEPTH_INFO_FILE)
    if not pending and osp.isfile(info_path):
        with open(info_path) as f:
            return dict(json.load(f), total=len(rels), predicted=0)
    os.makedirs(args.out_dir, exist_ok=True)
    model, processor = load_local_model(args.model, args.device)
    scale = MM_PER_METRE if kind == 'metric' else float(UINT16_MAX)
    info = write_info(args.out_dir, kind, scale, model)

    if pending:
        from mmengine.utils import ProgressBar
        orientations: Dict[str, int] = {}
        batches = batches_by_size(args.img_dir, pending, args.batch_size,
                                  orientations)
        turned = [rel for rel in pending if orientations[rel] != 1]
        if turned:
            print(f'{len(turned)} image(s) carry an EXIF rotation (e.g. '
                  f'{turned[0]}): their depth is written as they are shown '
                  '(turned), which is how OpenCV and LoadImageFromFile read '
                  'them; a reader that ignores EXIF (mmcv '
                  "'color_ignore_orientation', raw JPEG pixels) would pair "
                  'them with depth of the other orientation')
        progress = ProgressBar(len(pending))
        for batch in batches:
            images = [read_rgb(osp.join(args.img_dir, rel)) for rel in batch]
            try:
                preds = predict(model, processor, images, args.device)
            except Exception as e:
                raise RuntimeError(
                    f'depth prediction failed for {len(batch)} image(s) of '
                    f'{args.img_dir} ({", ".join(batch[:4])}'
                    f'{", ..." if len(batch) > 4 else ""}): {e}') from e
            for rel, pred in zip(batch, preds):
                raw, meta = encode_depth_by_kind(pred, kind)
                png, meta_path = output_paths(args.out_dir, rel)
                write_image_atomic(png, raw)
                meta.update(source=rel, height=int(raw.shape[0]),
                            width=int(raw.shape[1]),
                            exif_orientation=orientations[rel],
                            model_type=info['model_type'])
                with open(meta_path, 'w') as f:  # written last: marks done
                    json.dump(meta, f, indent=2)
                progress.update()
        print()
    print(f'depth_kind={kind}, depth_scale={scale:g} (in {DEPTH_INFO_FILE}): '
          f"read back with RGBDFolderDataset(depth_dir='"
          f"{info['dataset']['depth_dir']}'), which reads {DEPTH_INFO_FILE}, "
          f"and DepthPairFilter(mode='{info['depth_filter']['mode']}')")
    return dict(info, total=len(rels), predicted=len(pending))


if __name__ == '__main__':
    main()
