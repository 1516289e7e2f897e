"""Tests of the analytic (exact, differentiable) TST / AutoAugment ops."""
import math

import pytest
import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode

from mmtst.models.augmenters.affine import (affine_matrix, compose_affine,
                                            invert_affine, transform_points,
                                            warp)
from mmtst.models.augmenters.analytic_ops import apply_op, cutout, equalize
from mmtst.models.augmenters.op_specs import (ALL_OPS, GEOMETRIC_OPS,
                                              MAGNITUDE_OPS, OP_SPECS)

COLOUR_REF = {
    'Brightness': TF.adjust_brightness,
    'Color': TF.adjust_saturation,
    'Contrast': TF.adjust_contrast,
    'Sharpness': TF.adjust_sharpness,
}
SIGNED_COLOUR = tuple(COLOUR_REF)
MAGS = (0.1, 0.5, 0.9)
SIGNS = (1.0, -1.0)


def smooth_image(n: int, c: int, h: int, w: int, seed: int = 0):
    """A low-frequency random pattern with uint8-valued levels (k / 255)."""
    g = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0, 1, h).view(1, 1, h, 1)
    xs = torch.linspace(0, 1, w).view(1, 1, 1, w)
    img = torch.zeros(n, c, h, w)
    for _ in range(3):
        fy, fx = torch.rand(2, n, c, 1, 1, generator=g) * 2.5 + 0.5
        phase = torch.rand(n, c, 1, 1, generator=g) * 2 * math.pi
        img = img + torch.sin(2 * math.pi * (fy * ys + fx * xs) + phase)
    img = (img - img.amin((2, 3), keepdim=True)) / (
        img.amax((2, 3), keepdim=True) - img.amin((2, 3), keepdim=True))
    img = 0.03 + 0.94 * img
    return (img * 255).round() / 255


IMAGES = {
    'rgb32': smooth_image(2, 3, 32, 32),
    'gray28': smooth_image(2, 1, 28, 28, 1),
    'rgb24x40': smooth_image(2, 3, 24, 40, 2),  # non-square: H/W not mixed up
}


def ref_op(name, img, value):
    """torchvision reference on a single (C, H, W) float image."""
    if name in COLOUR_REF:
        return COLOUR_REF[name](img, 1.0 + value)
    u8 = (img * 255).round().to(torch.uint8)
    if name == 'Posterize':
        return TF.posterize(u8, int(round(value))).float() / 255
    if name == 'Solarize':
        return TF.solarize(img, value)
    if name == 'Equalize':
        return TF.equalize(u8).float() / 255
    if name == 'Invert':
        return TF.invert(img)
    bil = InterpolationMode.BILINEAR
    h, w = img.shape[-2:]
    # called as torchvision.transforms.autoaugment._apply_op does, except
    # bilinear and a continuous (not int-truncated) translation
    if name == 'ShearX':
        return TF.affine(
            img,
            angle=0.0,
            translate=[0, 0],
            scale=1.0,
            shear=[math.degrees(math.atan(value)), 0.0],
            interpolation=bil,
            center=[0, 0])
    if name == 'ShearY':
        return TF.affine(
            img,
            angle=0.0,
            translate=[0, 0],
            scale=1.0,
            shear=[0.0, math.degrees(math.atan(value))],
            interpolation=bil,
            center=[0, 0])
    if name == 'TranslateX':
        return TF.affine(
            img,
            angle=0.0,
            translate=[value * w, 0],
            scale=1.0,
            shear=[0.0, 0.0],
            interpolation=bil)
    if name == 'TranslateY':
        return TF.affine(
            img,
            angle=0.0,
            translate=[0, value * h],
            scale=1.0,
            shear=[0.0, 0.0],
            interpolation=bil)
    if name == 'Rotate':
        return TF.rotate(img, value, interpolation=bil)
    raise KeyError(name)


def _errors(name, img, m):
    """Max over signs of the mean abs error vs torchvision, per image."""
    sign = torch.tensor([1.0, -1.0])
    mag = torch.tensor(m)
    out = apply_op(name, img, mag, sign)
    errs = []
    for i in range(img.shape[0]):
        spec = OP_SPECS[name]
        value = spec.value(mag, sign[i]) if spec.signed else spec.value(mag)
        value = float(value)
        ref = ref_op(name, img[i], value)
        errs.append((out[i] - ref).abs().mean().item())
    return max(errs)


@pytest.mark.parametrize('key', list(IMAGES))
@pytest.mark.parametrize('name', list(COLOUR_REF) + ['Posterize', 'Solarize'])
def test_colour_ops_match_torchvision(name, key):
    img = IMAGES[key]
    for m in MAGS:
        assert _errors(name, img, m) < 1e-5, (name, m)


@pytest.mark.parametrize('key', list(IMAGES))
@pytest.mark.parametrize('name', GEOMETRIC_OPS)
def test_geometric_ops_match_torchvision(name, key):
    img = IMAGES[key]
    for m in MAGS:
        assert _errors(name, img, m) < 1e-4, (name, m)


@pytest.mark.parametrize('key', list(IMAGES))
def test_fixed_ops_match_torchvision(key):
    img = IMAGES[key]
    for name in ('Equalize', 'Invert'):
        out = apply_op(name, img)
        for i in range(img.shape[0]):
            assert (out[i] - ref_op(name, img[i], None)).abs().max() < 1e-6


def test_equalize_edge_cases():
    # constant channel (step 0) and a two-level channel
    img = torch.full((2, 3, 8, 8), 0.5)
    img[1, 1, :4] = 0.2
    img[1, 2] = torch.arange(64).view(8, 8) / 255.0
    out = equalize(img)
    u8 = (img * 255).round().to(torch.uint8)
    assert torch.equal((out * 255).round().to(torch.uint8), TF.equalize(u8))


def test_translate_integer_shift_matches_autoaugment():
    # where value * W is an integer, torchvision's int() truncation is a no-op
    img = IMAGES['rgb32'][:1]
    frac = OP_SPECS['TranslateX'].high
    m = torch.tensor(7.0 / (32 * frac), dtype=torch.float64)
    out = apply_op('TranslateX', img.double(), m, torch.tensor([1.0]))
    ref = TF.affine(
        img[0].double(),
        angle=0.0,
        translate=[7, 0],
        scale=1.0,
        shear=[0.0, 0.0],
        interpolation=InterpolationMode.BILINEAR)
    assert (out[0] - ref).abs().max() < 1e-9


@pytest.mark.parametrize('name', MAGNITUDE_OPS)
def test_gradient_reaches_magnitude(name):
    img = IMAGES['rgb32'].clone().requires_grad_(True)
    proj = torch.randn(img.shape, generator=torch.Generator().manual_seed(1))
    for m0 in (0.3, 0.5, 0.8):
        mag = torch.tensor(m0, requires_grad=True)
        out = apply_op(name, img, mag, torch.tensor([1.0, -1.0]))
        grad_m, grad_x = torch.autograd.grad((out * proj).sum(), [mag, img])
        assert torch.isfinite(grad_m) and grad_m.abs() > 0, (name, m0)
        assert torch.isfinite(grad_x).all() and grad_x.abs().sum() > 0


@pytest.mark.parametrize('name', ['Posterize', 'Equalize'])
def test_straight_through_image_gradient(name):
    img = IMAGES['rgb32'].clone().requires_grad_(True)
    out = apply_op(name, img, torch.tensor(0.7))
    (grad, ) = torch.autograd.grad(out.sum(), img)
    assert torch.equal(grad, torch.ones_like(img))


@pytest.mark.parametrize('key', list(IMAGES))
@pytest.mark.parametrize('name', MAGNITUDE_OPS)
def test_zero_magnitude_is_identity(name, key):
    img = IMAGES[key]  # values in [0.03, 0.97]: Solarize at threshold 1 is id
    out = apply_op(name, img, torch.tensor(0.0), torch.tensor([1.0, -1.0]))
    assert (out - img).abs().max() < 1e-5, name


def test_compose_and_invert_affine():
    img = IMAGES['rgb32']
    n, _, h, w = img.shape
    sign = torch.tensor([1.0, -1.0])
    a = affine_matrix('Rotate', torch.tensor(0.4), sign, h, w)
    b = affine_matrix('ShearX', torch.tensor(0.3), sign, h, w)
    twice = warp(warp(img, a), b)
    once = warp(img, compose_affine(a, b))
    # compare where both warps stayed inside the image (interior pixels)
    valid = warp(warp(torch.ones(n, 1, h, w), a), b) > 0.999
    inner = torch.zeros_like(valid)
    inner[..., 6:-6, 6:-6] = True
    valid &= inner
    assert valid.sum() > 100
    # two bilinear resamplings blur a little more than one
    assert (twice - once).abs()[valid.expand_as(twice)].mean() < 1e-2
    eye = torch.eye(2, 3).expand(n, 2, 3)
    for m in (a, b, compose_affine(a, b)):
        assert torch.allclose(
            compose_affine(m, invert_affine(m)), eye, atol=1e-5)
        assert torch.allclose(
            compose_affine(invert_affine(m), m), eye, atol=1e-5)


def test_points_follow_the_warp():
    # a bright pixel moved by warp lands where invert_affine sends its centre
    img = torch.zeros(1, 1, 32, 32)
    img[0, 0, 10, 20] = 1.0
    mat = affine_matrix('Rotate', torch.tensor(0.5), torch.tensor([1.0]), 32,
                        32)
    out = warp(img, mat)
    centre = torch.tensor([[[20.5, 10.5]]])
    moved = transform_points(centre, invert_affine(mat))[0, 0]
    ys, xs = torch.meshgrid(
        torch.arange(32) + 0.5, torch.arange(32) + 0.5, indexing='ij')
    wsum = out[0, 0].sum()
    com = torch.stack([(out[0, 0] * xs).sum(), (out[0, 0] * ys).sum()]) / wsum
    assert (com - moved).abs().max() < 0.3


def test_warp_label_map_nearest():
    labels = torch.randint(0, 5, (2, 1, 16, 16))
    eye = torch.eye(2, 3)
    assert torch.equal(warp(labels, eye, mode='nearest'), labels)


def test_cutout_deterministic_and_clipped():
    img = torch.ones(8, 3, 32, 32)
    a = cutout(img, 16, generator=torch.Generator().manual_seed(3))
    b = cutout(img, 16, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    zeros = (a[:, 0] == 0).sum(dim=(1, 2))
    assert (zeros > 0).all() and (zeros <= 256).all()
    assert ((a == 0) | (a == 1)).all()
    # channels are erased together
    assert torch.equal(a[:, 0], a[:, 2])


def test_all_ops_run_and_keep_shape_and_range():
    img = IMAGES['rgb32']
    for name in ALL_OPS:
        out = apply_op(
            name,
            img,
            torch.tensor(0.6),
            torch.tensor([1.0, -1.0]),
            generator=torch.Generator().manual_seed(0))
        assert out.shape == img.shape
        assert out.min() >= 0 and out.max() <= 1, name


def test_unknown_op_raises():
    with pytest.raises(ValueError, match='Flip') as info:
        apply_op('Flip', IMAGES['rgb32'])
    assert 'Rotate' in str(info.value)
    with pytest.raises(ValueError):
        affine_matrix('Brightness', torch.tensor(0.5), None, 8, 8)
