"""Fashion-MNIST scenes: a small, offline detection data set of real objects.

Real Fashion-MNIST objects (Xiao et al. 2017; the Debian
``dataset-fashion-mnist`` idx files) are scaled, tinted and pasted onto
smooth procedural colour textures, without overlap, so every object has an
exact box and an exact instance mask. A seed fixes everything. The scenes
are written as COCO (PNG images + one annotation json per split) and read
with mmdet's ``CocoDataset``: :class:`FashionMNISTScenes` only fixes the
class names and can generate the files on first use.

Why procedural backgrounds: no natural-image collection (e.g.
scikit-image's sample images) is installed here, and none may be
downloaded; sums of random low-frequency waves with a little noise give
textured, non-uniform backgrounds that a detector must learn to ignore.

It is the detection counterpart of mmtst's Fashion-MNIST quick start: small
enough to train a tiny RetinaNet / Faster R-CNN teacher and student with
TST (Shao et al., IJCAI 2023) on a CPU, evaluated with mmdet's
``CocoMetric``.
"""
import gzip
import json
import os
import os.path as osp
from typing import List, Tuple

import numpy as np

from .fashion_mnist import DEBIAN_FASHION_MNIST

FASHION_MNIST_CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                         'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
PALETTE = [(220, 20, 60), (119, 11, 32), (0, 0, 142), (0, 0, 230),
           (106, 0, 228), (0, 60, 100), (0, 80, 100), (0, 0, 70), (0, 0, 192),
           (250, 170, 30)]
# which idx files the objects of each split come from: val/test objects
# are Fashion-MNIST test images, never seen in training scenes
# folder (under out_dir) of the semantic label maps, mirroring the images
SEMANTIC_DIR = 'semantic'
SOURCE_SPLIT = {'train': 'train', 'val': 't10k', 'test': 't10k'}


def read_idx(path: str) -> np.ndarray:
    """Read an idx(.gz) file of uint8 images or labels."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims))
    return np.frombuffer(
        data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_fashion_mnist(source: str,
                       split: str) -> Tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 28, 28)`` and labels ``(N,)`` of ``'train'`` or
    ``'t10k'`` from a folder of the idx files (gzipped or not)."""
    found = []
    for kind in ('images-idx3-ubyte', 'labels-idx1-ubyte'):
        candidates = [
            osp.join(source, f'{split}-{kind}{ext}') for ext in ('.gz', '')
        ]
        path = next((p for p in candidates if osp.isfile(p)), None)
        if path is None:
            raise FileNotFoundError(
                f'Fashion-MNIST {split}-{kind} is not in {source!r}. Install '
                'it with `apt-get install dataset-fashion-mnist` or point '
                '--source at a folder with the idx files.')
        found.append(read_idx(path))
    return found[0], found[1]


def procedural_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth colour texture ``(size, size, 3)`` uint8: a random sum of
    low-frequency waves per channel plus faint noise."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = rng.uniform(40, 200, size=3)
    image = np.empty((size, size, 3), np.float32)
    for c in range(3):
        field = np.zeros((size, size), np.float32)
        for _ in range(4):
            fx, fy = rng.uniform(-4, 4, size=2)
            phase = rng.uniform(0, 2 * np.pi)
            field += rng.uniform(5, 25) * np.sin(2 * np.pi *
                                                 (fx * xs + fy * ys) + phase)
        image[..., c] = base[c] + field
    image += rng.normal(0, 4, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _resize(obj: np.ndarray, side: int) -> np.ndarray:
    from PIL import Image
    return np.asarray(
        Image.fromarray(obj).resize((side, side), Image.BILINEAR))


def render_scene(rng: np.random.Generator,
                 objects: np.ndarray,
                 labels: np.ndarray,
                 size: int = 96,
                 max_objects: int = 3,
                 min_side: int = 24,
                 max_side: int = 44) -> Tuple[np.ndarray, List[dict]]:
    """One scene: a background with 1..``max_objects`` non-overlapping
    objects.

    Returns:
        ``(image, instances)``: a BGR ``(size, size, 3)`` uint8 image (as
        OpenCV writes and mmdet reads it) and per object a dict with
        ``label`` (0-based), ``bbox`` (x1, y1, x2, y2, exact: the
        tight box of the object's mask) and ``mask`` (``(size, size)``
        bool).
    """
    image = procedural_background(rng, size).astype(np.float32)
    occupied = np.zeros((size, size), bool)
    instances = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(20):
            side = int(rng.integers(min_side, max_side + 1))
            x0 = int(rng.integers(0, size - side + 1))
            y0 = int(rng.integers(0, size - side + 1))
            index = int(rng.integers(0, len(objects)))
            alpha = _resize(objects[index], side).astype(np.float32) / 255.0
            mask = np.zeros((size, size), bool)
            mask[y0:y0 + side, x0:x0 + side] = alpha > 0.2
            if mask.sum() >= 16 and not (mask & occupied).any():
                break
        else:
            continue
        colour = rng.uniform(0, 255, size=3)
        region = image[y0:y0 + side, x0:x0 + side]
        region[:] = region * (1 - alpha[..., None]) + colour * alpha[..., None]
        occupied |= mask
        ys, xs = np.nonzero(mask)
        instances.append(
            dict(
                label=int(labels[index]),
                mask=mask,
                bbox=(int(xs.min()), int(ys.min()), int(xs.max()) + 1,
                      int(ys.max()) + 1)))
    return image.round().astype(np.uint8), instances


def semantic_label_map(instances: List[dict], size: int) -> np.ndarray:
    """A ``(size, size)`` uint8 semantic map of a scene: background 0,
    Fashion-MNIST class k -> k + 1 (objects never overlap, so every pixel
    has exactly one class; no ignore label is needed)."""
    labels = np.zeros((size, size), np.uint8)
    for inst in instances:
        labels[inst['mask']] = inst['label'] + 1
    return labels


def make_scenes(out_dir: str,
                split: str = 'train',
                num_images: int = 200,
                image_size: int = 96,
                max_objects: int = 3,
                seed: int = 0,
                source: str = DEBIAN_FASHION_MNIST,
                semantic: bool = False) -> str:
    """Write ``num_images`` scenes of ``split`` as COCO under ``out_dir``:
    ``{split}/NNNNNN.png`` and ``annotations/{split}.json`` (boxes, areas
    and RLE instance masks). Deterministic in ``seed`` (and ``split``).

    With ``semantic=True`` also ``semantic/{split}/NNNNNN.png``: the
    scene's semantic label map (:func:`semantic_label_map`), for mmseg
    (:class:`~mmtst.datasets.FashionMNISTSceneSegmentation`).

    Returns:
        The annotation file's path.
    """
    import cv2
    from pycocotools import mask as mask_utils
    if split not in SOURCE_SPLIT:
        raise ValueError(
            f'split must be one of {list(SOURCE_SPLIT)}, got {split!r}')
    objects, labels = load_fashion_mnist(source, SOURCE_SPLIT[split])
    rng = np.random.default_rng([seed, list(SOURCE_SPLIT).index(split)])
    os.makedirs(osp.join(out_dir, split), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    if semantic:
        os.makedirs(osp.join(out_dir, SEMANTIC_DIR, split), exist_ok=True)
    images, annotations = [], []
    for image_id in range(num_images):
        image, instances = render_scene(rng, objects, labels, image_size,
                                        max_objects)
        name = f'{split}/{image_id:06d}.png'
        cv2.imwrite(osp.join(out_dir, name), image)
        if semantic:
            cv2.imwrite(
                osp.join(out_dir, SEMANTIC_DIR, name),
                semantic_label_map(instances, image_size))
        images.append(
            dict(
                id=image_id,
                file_name=name,
                width=image_size,
                height=image_size))
        for inst in instances:
            x1, y1, x2, y2 = inst['bbox']
            rle = mask_utils.encode(
                np.asfortranarray(inst['mask'].astype(np.uint8)))
            rle['counts'] = rle['counts'].decode('ascii')
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=image_id,
                    category_id=inst['label'] + 1,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=int(inst['mask'].sum()),
                    iscrowd=0,
                    segmentation=rle))
    coco = dict(
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i + 1, name=name)
            for i, name in enumerate(FASHION_MNIST_CLASSES)
        ])
    ann_file = osp.join(out_dir, 'annotations', f'{split}.json')
    tmp = ann_file + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(coco, f)
    os.replace(tmp, ann_file)
    return ann_file
