"""Fashion-MNIST scenes: deterministic, exact boxes and masks, COCO that
mmdet's CocoDataset (via FashionMNISTScenes) reads."""
import json

import numpy as np
import pytest
from conftest import needs_fashion_mnist

from mmtst.datasets.scenes import (load_fashion_mnist, make_scenes,
                                   procedural_background, render_scene)


@pytest.fixture(autouse=True)
def mmdet_scope():
    """Build in mmdet's scope without leaving it as the default for the
    tests that run after these."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def fake_objects():
    objects = np.zeros((4, 28, 28), np.uint8)
    objects[:, 6:22, 8:20] = 255
    return objects, np.arange(4)


def test_render_scene_boxes_are_tight_around_masks():
    rng = np.random.default_rng(0)
    objects, labels = fake_objects()
    image, instances = render_scene(
        rng, objects, labels, size=96, max_objects=3)
    assert image.shape == (96, 96, 3) and image.dtype == np.uint8
    assert instances
    occupied = np.zeros((96, 96), int)
    for inst in instances:
        x1, y1, x2, y2 = inst['bbox']
        ys, xs = np.nonzero(inst['mask'])
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x1, y1, x2,
                                                                    y2)
        occupied += inst['mask']
    assert occupied.max() == 1  # objects never overlap


def test_backgrounds_are_textured_and_seeded():
    a = procedural_background(np.random.default_rng(1), 64)
    b = procedural_background(np.random.default_rng(1), 64)
    assert np.array_equal(a, b) and a.std() > 5


@needs_fashion_mnist
def test_make_scenes_is_deterministic_coco(tmp_path):
    from pycocotools import mask as mask_utils
    first = make_scenes(str(tmp_path / 'a'), 'val', num_images=4, seed=7)
    second = make_scenes(str(tmp_path / 'b'), 'val', num_images=4, seed=7)
    one, two = json.load(open(first)), json.load(open(second))
    assert one == two and len(one['categories']) == 10
    import cv2
    assert np.array_equal(
        cv2.imread(str(tmp_path / 'a' / 'val' / '000001.png')),
        cv2.imread(str(tmp_path / 'b' / 'val' / '000001.png')))
    for ann in one['annotations']:
        mask = mask_utils.decode(ann['segmentation'])
        ys, xs = np.nonzero(mask)
        x, y, w, h = ann['bbox']
        assert (xs.min(), ys.min(), xs.max() + 1 - x,
                ys.max() + 1 - y) == (x, y, w, h)
        assert ann['area'] == mask.sum() and 1 <= ann['category_id'] <= 10
    other = make_scenes(str(tmp_path / 'c'), 'val', num_images=4, seed=8)
    assert json.load(open(other)) != one


@needs_fashion_mnist
def test_fashion_mnist_scenes_dataset_generates_and_loads(tmp_path):
    from mmtst.registry import DATASETS
    dataset = DATASETS.build(
        dict(
            type='mmtst.FashionMNISTScenes',
            data_root=str(tmp_path) + '/',
            ann_file='annotations/val.json',
            data_prefix=dict(img=''),
            test_mode=True,
            generate=dict(num_images=3, seed=0),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                dict(type='PackDetInputs')
            ]))
    assert len(dataset) == 3 and dataset.metainfo['classes'][9] == 'Ankle boot'
    sample = dataset[0]['data_samples']
    assert len(sample.gt_instances) >= 1
    masks = sample.gt_instances.masks.masks
    boxes = sample.gt_instances.bboxes.tensor.numpy()
    for mask, (x1, y1, x2, y2) in zip(masks, boxes):
        ys, xs = np.nonzero(mask)
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x1, y1, x2,
                                                                    y2)


def test_missing_source_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match='dataset-fashion-mnist'):
        load_fashion_mnist(str(tmp_path), 'train')


def _scenes_with_a_corrupt_image(tmp_path, pipeline_load):
    from mmtst.registry import DATASETS
    dataset = DATASETS.build(
        dict(
            type='mmtst.FashionMNISTScenes',
            data_root=str(tmp_path) + '/',
            ann_file='annotations/train.json',
            data_prefix=dict(img=''),
            generate=dict(num_images=4, seed=0),
            pipeline=[
                pipeline_load,
                dict(type='LoadAnnotations', with_bbox=True),
                dict(type='PackDetInputs')
            ]))
    bad = dataset.get_data_info(0)['img_path']
    with open(bad, 'wb') as f:  # a truncated, undecodable file
        f.write(b'\x89PNG\r\n\x1a\n not really an image')
    return dataset, bad


@needs_fashion_mnist
def test_corrupt_image_error_names_the_file_and_the_fix(tmp_path):
    from mmtst.datasets import CorruptImageError
    dataset, bad = _scenes_with_a_corrupt_image(
        tmp_path, dict(type='mmtst.LoadImageOrReport'))
    with pytest.raises(CorruptImageError) as err:
        dataset[0]
    assert bad in str(err.value) and 'skip_corrupt=True' in str(err.value)
    assert dataset[1]['inputs'].shape[0] == 3  # the others load


@needs_fashion_mnist
def test_corrupt_image_gets_our_message_only(tmp_path, capfd):
    """OpenCV's own WARN/ERROR lines about the broken PNG stay silent (fd
    capture: OpenCV writes to the process's stderr from C++)."""
    from mmtst.datasets import CorruptImageError
    dataset, _ = _scenes_with_a_corrupt_image(
        tmp_path, dict(type='mmtst.LoadImageOrReport'))
    capfd.readouterr()
    with pytest.raises(CorruptImageError):
        dataset[0]
    err = capfd.readouterr().err
    assert 'grfmt_png' not in err and 'WARN:' not in err, err


@needs_fashion_mnist
def test_corrupt_image_is_skipped_with_a_warning_when_asked(tmp_path):
    from mmengine.logging import MMLogger
    dataset, bad = _scenes_with_a_corrupt_image(
        tmp_path, dict(type='mmtst.LoadImageOrReport', skip_corrupt=True))
    logger = MMLogger.get_instance('mmtst_corrupt_test')
    records = []
    import logging

    class Keep(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    logger.addHandler(Keep())
    sample = dataset[0]  # training mode: another image is drawn instead
    assert sample['data_samples'].img_path != bad
    assert any(bad in m and 'skipping unreadable image' in m for m in records)
