"""TST augmenter geometry for structured tasks: one warp per sample and
its pixel-space matrix, for both backends; boxes and masks follow it."""
import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import FASHION_MNIST, needs_fashion_mnist

from mmtst.models.augmenters import LearnableAugmentPolicy
from mmtst.models.augmenters.affine import (affine_matrix, invert_affine,
                                            pixel_to_theta, theta_to_pixel,
                                            transform_points, warp)
from mmtst.models.task_adapters import (warp_bitmap_masks, warp_boxes,
                                        warp_data_samples, warp_instances)


def test_theta_to_pixel_samples_the_same_grid():
    torch.manual_seed(0)
    img = torch.rand(3, 2, 20, 32)
    theta = torch.tensor([[1.0, 0.2, 0.1], [-0.1, 0.9, -0.2]]).expand(3, 2, 3)
    grid = F.affine_grid(theta, list(img.shape), align_corners=False)
    expected = F.grid_sample(img, grid, align_corners=False)
    got = warp(img, theta_to_pixel(theta, 20, 32))
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(
        pixel_to_theta(theta_to_pixel(theta, 20, 32), 20, 32),
        theta,
        atol=1e-6)


def test_theta_to_pixel_of_a_translation():
    # theta's x shift of 0.5 (normalised) is a quarter of the width: the
    # output at x samples the input at x + W/4
    theta = torch.tensor([[[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]]])
    pixel = theta_to_pixel(theta, 10, 40)
    assert torch.allclose(pixel, torch.tensor([[[1.0, 0, 10.0], [0, 1.0, 0]]]))


def policy(backend, ops, **kwargs):
    # black fill: the dot's centre of mass is the only bright content
    kwargs.setdefault('fill', 'black')
    aug = LearnableAugmentPolicy(
        ops=ops,
        backend=backend,
        gate_input='logit',
        solve_number=len(ops),
        **kwargs)
    with torch.no_grad():
        aug.probability_logits.fill_(20.0)  # gates ~1: every op applies
        aug.magnitude_logits.fill_(1.0)
    return aug


def dot_image(n=4, size=48, at=(30, 14)):
    img = torch.zeros(n, 3, size, size)
    img[:, :, at[1] - 2:at[1] + 3, at[0] - 2:at[0] + 3] = 1.0
    return img


@pytest.mark.parametrize('backend', ['analytic', 'neural'])
def test_geometry_moves_content_where_the_matrix_says(backend):
    torch.manual_seed(0)
    aug = policy(backend, ['TranslateX', 'Rotate', 'ShearY']).eval()
    # central enough that the (one-way, m = 0.73) warps keep it inside
    img = dot_image(at=(18, 24))
    out, matrices = aug.augment_with_geometry(img)
    assert out.shape == img.shape and matrices.shape == (4, 2, 3)
    centre = torch.tensor([[[18.5, 24.5]]]).expand(4, 1, 2)
    predicted = transform_points(centre, invert_affine(matrices))[:, 0]
    moved = 0
    for i in range(4):
        mass = out[i, 0]
        # pushed out of the image, or partly: a clipped dot's centre of
        # mass is not its centre
        inside = ((predicted[i] >= 3) & (predicted[i] <= 45)).all()
        if mass.sum() < 1 or not inside:
            continue
        ys, xs = torch.meshgrid(
            torch.arange(48.) + 0.5, torch.arange(48.) + 0.5, indexing='ij')
        found = torch.stack([(mass * xs).sum(),
                             (mass * ys).sum()]) / mass.sum()
        assert torch.allclose(found, predicted[i], atol=1.0)
        moved += int((predicted[i] - centre[0, 0]).norm() > 1)
    assert moved > 0


def test_geometry_gradient_reaches_magnitudes_and_gates():
    aug = policy('analytic', ['TranslateX', 'Brightness']).train()
    out, matrices = aug.augment_with_geometry(torch.rand(2, 3, 16, 16))
    (out.sum() + matrices.sum()).backward()
    assert aug.magnitude_logits.grad.abs().sum() > 0


def test_colour_ops_and_cutout_leave_the_matrix_identity():
    aug = policy(
        'analytic', ['Brightness', 'Cutout', 'Solarize'],
        cutout_size=8).eval()
    img = torch.rand(3, 3, 16, 16)
    out, matrices = aug.augment_with_geometry(img)
    assert not torch.equal(out, img)
    assert torch.equal(matrices, torch.eye(2, 3).expand(3, 2, 3))
    boxes = torch.tensor([[2.0, 3.0, 9.0, 12.0]])
    warped, keep = warp_boxes(boxes, matrices[0], (16, 16))
    assert keep.all() and torch.equal(warped, boxes)


def test_eval_is_deterministic_and_train_is_not():
    aug = policy('neural', ['Rotate', 'TranslateY', 'Contrast'])
    img = torch.rand(2, 3, 16, 16)
    aug.eval()
    a, ma = aug.augment_with_geometry(img)
    b, mb = aug.augment_with_geometry(img)
    assert torch.equal(a, b) and torch.equal(ma, mb)


@pytest.mark.parametrize('name,sign', [('Rotate', 1.0), ('ShearX', -1.0),
                                       ('TranslateY', 1.0)])
def test_warped_box_encloses_the_warped_object(name, sign):
    img = torch.zeros(1, 1, 64, 64)
    img[0, 0, 20:34, 25:45] = 1.0  # object: x in [25, 45), y in [20, 34)
    box = torch.tensor([[25.0, 20.0, 45.0, 34.0]])
    matrix = affine_matrix(name, torch.tensor(0.6), torch.tensor([sign]), 64,
                           64)
    out = warp(img, matrix)[0, 0]
    warped, keep = warp_boxes(box, matrix[0], (64, 64))
    assert keep.all()
    ys, xs = torch.nonzero(out > 0.5, as_tuple=True)
    x1, y1, x2, y2 = warped[0].tolist()
    assert xs.min() >= x1 - 0.5 and xs.max() + 1 <= x2 + 0.5
    assert ys.min() >= y1 - 0.5 and ys.max() + 1 <= y2 + 0.5
    # and tight for a translation
    if name == 'TranslateY':
        assert abs(ys.min().item() - y1) <= 1 and abs(ys.max().item() + 1 -
                                                      y2) <= 1


def test_degenerate_boxes_and_their_labels_are_dropped():
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    sample = DetDataSample(metainfo=dict(img_shape=(32, 32)))
    masks = np.zeros((3, 32, 32), dtype=np.uint8)
    masks[0, 2:10, 2:10] = 1
    masks[1, 20:30, 26:31] = 1
    masks[2, 12:14, 12:20] = 1
    sample.gt_instances = InstanceData(
        bboxes=HorizontalBoxes(
            torch.tensor([[2., 2., 10., 10.], [26., 20., 31., 30.],
                          [12., 12., 20., 14.]])),
        labels=torch.tensor([3, 5, 7]),
        masks=BitmapMasks(masks, 32, 32))
    # move everything 28 px right: the second box leaves the image
    matrix = torch.tensor([[[1.0, 0.0, -28.0], [0.0, 1.0, 0.0]]])
    warped = warp_data_samples([sample], matrix)[0]
    assert warped.gt_instances.labels.tolist() == [3]
    assert isinstance(warped.gt_instances.bboxes, HorizontalBoxes)
    assert warped.gt_instances.bboxes.tensor.tolist() == [[
        30.0, 2.0, 32.0, 10.0
    ]]
    assert warped.gt_instances.masks.masks.shape == (1, 32, 32)
    assert warped.gt_instances.masks.masks[0, 2:10, 30:32].all()
    assert len(sample.gt_instances) == 3  # the original is untouched
    assert warped.metainfo['img_shape'] == (32, 32)


def test_singular_matrix_never_gives_nan():
    matrix = torch.zeros(2, 3)
    warped, keep = warp_boxes(torch.tensor([[1., 1., 5., 5.]]), matrix, (8, 8))
    assert not keep.any() and torch.isfinite(warped).all()


def test_bitmap_masks_follow_a_rotation_of_half_a_turn():
    masks = np.zeros((1, 8, 8), dtype=np.uint8)
    masks[0, 0:2, 0:3] = 1
    half_turn = torch.tensor([[-1.0, 0.0, 8.0], [0.0, -1.0, 8.0]])
    out = warp_bitmap_masks(masks, half_turn)
    assert out[0, 6:8, 5:8].all() and out.sum() == 6


def test_boxes_mostly_outside_the_image_are_dropped_without_masks():
    box = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    left = torch.tensor([[1.0, 0.0, 9.0], [0.0, 1.0, 0.0]])  # 9 px left
    warped, keep = warp_boxes(box, left, (32, 32))
    assert not keep.any()  # 10% in view, below the default 0.2
    warped, keep = warp_boxes(box, left, (32, 32), min_visible_area_ratio=0.0)
    assert keep.all() and warped.tolist() == [[0.0, 0.0, 1.0, 10.0]]
    warped, keep = warp_boxes(box, left, (32, 32), min_visible_area_ratio=0.1)
    assert keep.all()  # exactly the threshold: kept


def test_polygon_masks_give_the_tight_box_of_their_warped_polygon():
    from mmdet.structures.mask import PolygonMasks
    from mmengine.structures import InstanceData

    # a triangle: the box of its rotated polygon is tighter than the box
    # of its rotated box's corners
    triangle = np.array([8., 40., 40., 40., 8., 8.])
    corner = np.array([56., 2., 62., 2., 62., 8., 56., 8.])
    instances = InstanceData(
        bboxes=torch.tensor([[8., 8., 40., 40.], [56., 2., 62., 8.]]),
        labels=torch.tensor([1, 2]),
        masks=PolygonMasks([[triangle], [corner]], 64, 64))
    # 30 degrees about the centre: the top-right square leaves the image
    matrix = affine_matrix('Rotate', torch.tensor(1.0), None, 64, 64)[0]
    out = warp_instances(instances, matrix, (64, 64))
    assert out.labels.tolist() == [1] and len(out.masks) == 1
    ys, xs = np.nonzero(out.masks.to_ndarray()[0])
    tight = [xs.min(), ys.min(), xs.max() + 1.0, ys.max() + 1.0]
    assert out.bboxes.tolist() == [tight]
    loose, _ = warp_boxes(instances.bboxes[:1], matrix, (64, 64))
    x1, y1, x2, y2 = loose[0].tolist()
    assert (tight[2] - tight[0]) * (tight[3] - tight[1]) < 0.8 * ((x2 - x1) *
                                                                  (y2 - y1))


@functools.lru_cache(maxsize=1)
def strongly_warped_scenes(num=120, seed=3):
    """Scenes of real Fashion-MNIST objects (with exact masks) and, per
    scene, the warp of all five geometric ops at magnitude 0.9 (rendered
    once for the tests that share them)."""
    from mmtst.datasets.scenes import load_fashion_mnist, render_scene
    objects, labels = load_fashion_mnist(FASHION_MNIST, 't10k')
    rng = np.random.default_rng(seed)
    scenes = [render_scene(rng, objects, labels, 96, 3)[1] for _ in range(num)]
    aug = policy('analytic',
                 ['ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate'])
    with torch.no_grad():
        aug.magnitude_logits.fill_(float(np.log(0.9 / 0.1)))
    torch.manual_seed(seed)
    _, matrices = aug.eval().augment_with_geometry(torch.zeros(num, 3, 96, 96))
    return scenes, matrices


def scene_sample(instances, with_masks):
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    sample = DetDataSample(metainfo=dict(img_shape=(96, 96)))
    fields = dict(
        bboxes=HorizontalBoxes(
            torch.tensor([i['bbox'] for i in instances], dtype=torch.float32)),
        labels=torch.tensor([i['label'] for i in instances]),
        ids=torch.arange(len(instances)))
    if with_masks:
        fields['masks'] = BitmapMasks(
            np.stack([i['mask'] for i in instances]).astype(np.uint8), 96, 96)
    sample.gt_instances = InstanceData(**fields)
    return sample


def boxes_without_their_object(with_masks, **kwargs):
    """Kept boxes with no pixel of their own (warped) object, kept boxes,
    and per kept box its area over its object's tight visible box's."""
    scenes, matrices = strongly_warped_scenes()
    empty, kept, looseness = 0, 0, []
    for instances, matrix in zip(scenes, matrices):
        sample = scene_sample(instances, with_masks)
        out = warp_data_samples([sample], matrix[None],
                                **kwargs)[0].gt_instances
        objects = warp_bitmap_masks(
            np.stack([i['mask'] for i in instances]).astype(np.uint8), matrix)
        ids = out.ids.tolist()
        assert out.labels.tolist() == [instances[i]['label'] for i in ids]
        for box, i in zip(out.bboxes.tensor.tolist(), ids):
            kept += 1
            x1, y1, x2, y2 = box
            inside = objects[i][int(np.floor(y1)):int(np.ceil(y2)),
                                int(np.floor(x1)):int(np.ceil(x2))]
            if not inside.any():
                empty += 1
                continue
            ys, xs = np.nonzero(objects[i])
            tight = (xs.max() + 1 - xs.min()) * (ys.max() + 1 - ys.min())
            looseness.append((x2 - x1) * (y2 - y1) / tight)
    return empty, kept, np.array(looseness)


@needs_fashion_mnist
def test_boxes_from_warped_masks_hold_their_object_on_real_scenes():
    # moving the corners alone (no filter) keeps boxes whose object left
    # the image, and loose ones after rotations and shears
    empty, kept, looseness = boxes_without_their_object(
        False, min_visible_area_ratio=0.0)
    assert empty > 0 and looseness.mean() > 1.5
    # boxes from the warped masks: every one holds its object, tightly
    empty, kept, looseness = boxes_without_their_object(True)
    assert empty == 0 and kept > 0
    assert np.allclose(looseness, 1.0)


@needs_fashion_mnist
def test_visible_area_filter_drops_boxes_that_lost_their_object():
    unfiltered, kept_all, _ = boxes_without_their_object(
        False, min_visible_area_ratio=0.0)
    empty, kept, _ = boxes_without_their_object(False)
    assert empty < unfiltered and empty <= 0.005 * kept
    # most instances stay: the filter only takes boxes mostly out of view
    assert kept >= 0.85 * kept_all
