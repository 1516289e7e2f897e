"""Stage I of TST: fitting the neural op nets to the real AutoAugment ops.

TST (Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023, Sec. 3.2, "priori bias") fits, once and before any
distillation, one tiny net per magnitude op (:mod:`.neural_ops`) to imitate
the real op as a function of the magnitude. This module holds the real ops
the nets imitate (torchvision's AutoAugment ops, Cubuk et al., CVPR 2019:
:func:`autoaugment_op`, :func:`autoaugment_op_batch`) and the fitting loop,
so fitting (``tools/fit_op_nets.py``) and checking the nets (the tests) use
one definition. It lives in the package rather than next to the tool
because the tests import it and ``tools/`` is not a package.

Conventions are those of :mod:`.neural_ops`: float images ``(N, C, H, W)``
in [0, 1], normalised magnitudes in [0, 1], ``(N,)`` signs of +-1.
"""
import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .op_nets import OpNet, signed_magnitude
from .op_specs import MAGNITUDE_OPS, OP_SPECS
from .pixels import to_uint8_levels

__all__ = [
    'autoaugment_op', 'autoaugment_op_batch', 'sample_bin_magnitudes',
    'sample_signs', 'fit_op_net', 'imitation_error', 'count_parameters'
]

# ---------------------------------------------------------------------------
# The real (non-differentiable) AutoAugment ops that the nets imitate.
# ---------------------------------------------------------------------------


def autoaugment_op(name: str, img: Tensor, value: float) -> Tensor:
    """Op ``name`` with the AutoAugment value ``value`` on a float batch.

    ``value`` is :meth:`OpSpec.value` of the magnitude and sign. The calls
    are those of ``torchvision.transforms.autoaugment._apply_op`` with
    bilinear interpolation and zero fill; Translate's value is a fraction of
    the side, so it becomes ``int(value * side)`` pixels as in torchvision's
    AutoAugment; Posterize's bits are rounded as in torchvision's magnitude
    bins and it works on the uint8 image (torchvision only posterizes
    uint8).
    """
    import torchvision.transforms.functional as TF
    from torchvision.transforms import InterpolationMode
    bilinear = InterpolationMode.BILINEAR
    height, width = img.shape[-2:]
    if name in ('ShearX', 'ShearY'):
        angle = math.degrees(math.atan(value))
        shear = [angle, 0.0] if name == 'ShearX' else [0.0, angle]
        return TF.affine(
            img,
            angle=0.0,
            translate=[0, 0],
            scale=1.0,
            shear=shear,
            interpolation=bilinear,
            fill=None,
            center=[0, 0])
    if name in ('TranslateX', 'TranslateY'):
        shift = [int(value * width), 0
                 ] if name == 'TranslateX' else [0, int(value * height)]
        return TF.affine(
            img,
            angle=0.0,
            translate=shift,
            scale=1.0,
            shear=[0.0, 0.0],
            interpolation=bilinear,
            fill=None)
    if name == 'Rotate':
        return TF.rotate(img, value, interpolation=bilinear, fill=None)
    if name == 'Brightness':
        return TF.adjust_brightness(img, 1.0 + value)
    if name == 'Color':
        return TF.adjust_saturation(img, 1.0 + value)
    if name == 'Contrast':
        return TF.adjust_contrast(img, 1.0 + value)
    if name == 'Sharpness':
        return TF.adjust_sharpness(img, 1.0 + value)
    if name == 'Posterize':
        bits = int(round(value))
        uint8 = to_uint8_levels(img).to(torch.uint8)
        return TF.posterize(uint8, bits).to(img.dtype) / 255.0
    if name == 'Solarize':
        return TF.solarize(img, min(max(value, 0.0), 1.0))
    raise ValueError(f'{name} is not a magnitude op; magnitude ops: '
                     f'{", ".join(MAGNITUDE_OPS)}')


def autoaugment_op_batch(name: str,
                         img: Tensor,
                         magnitude: Tensor,
                         sign: Optional[Tensor] = None) -> Tensor:
    """:func:`autoaugment_op` with per-sample magnitudes ``(N,)`` (or one
    0-dim magnitude) and signs; samples sharing a value run as one batch."""
    spec = OP_SPECS[name]
    num = img.shape[0]
    signed = signed_magnitude(
        torch.as_tensor(magnitude).detach().float(),
        None if sign is None else sign.detach().float(), spec.signed, num)
    out = torch.empty_like(img)
    magnitudes = signed.abs() if spec.signed else signed
    signs = torch.sign(signed) if spec.signed else torch.ones_like(signed)
    keys = torch.stack([magnitudes, signs], dim=1).cpu()
    for key in torch.unique(keys, dim=0):
        idx = (keys == key).all(dim=1).nonzero().view(-1).to(img.device)
        value = spec.value(float(key[0]), float(key[1]))
        out[idx] = autoaugment_op(name, img[idx], value)
    return out


# ---------------------------------------------------------------------------
# The fitting loop (used by tools/fit_op_nets.py).
# ---------------------------------------------------------------------------

NUM_BINS = 10


def sample_bin_magnitudes(num: int,
                          generator: Optional[torch.Generator] = None
                          ) -> Tensor:
    """Magnitudes for fitting: ``u ~ U[0, 1)``, bin ``k = floor(10 u)``,
    ``m = k / 9``, i.e. one of torchvision's 10 AutoAugment bins
    ``linspace(0, 1, 10)`` drawn uniformly. The net and the real op both get
    this ``m`` (the authors' code feeds the net ``u`` but the op bin ``k``)."""
    u = torch.rand(num, generator=generator)
    bins = (u * NUM_BINS).floor().clamp(max=NUM_BINS - 1)
    return bins / (NUM_BINS - 1)


def sample_signs(num: int,
                 generator: Optional[torch.Generator] = None) -> Tensor:
    """Random per-sample signs, +-1."""
    return torch.randint(0, 2, (num, ), generator=generator).float() * 2 - 1


def fit_op_net(net: OpNet,
               name: str,
               images: Tensor,
               epochs: int = 10,
               batch_size: int = 64,
               lr: float = 1e-3,
               gamma: float = 0.999,
               max_iters: Optional[int] = None,
               generator: Optional[torch.Generator] = None) -> List[float]:
    """Fit ``net`` to imitate op ``name`` on ``images`` (TST stage I).

    MSE against :func:`autoaugment_op_batch`, per-sample bin magnitudes and
    signs, AdamW(lr) with ExponentialLR(gamma) stepped every iteration, as in
    the authors' code. The net is fitted in training mode (feature noise on)
    with whatever ``apply_prob`` it has: build it with 1.0 (gate off).

    Args:
        net: The net to fit (in place).
        name: The op it imitates.
        images: ``(M, C, H, W)`` float images in [0, 1].
        epochs: Passes over ``images`` (the last partial batch is dropped).
        batch_size: Images per iteration.
        lr: AdamW learning rate.
        gamma: ExponentialLR decay per iteration.
        max_iters: Optional cap on the number of iterations (for tests).
        generator: RNG for the order, magnitudes and signs.

    Returns:
        The loss of every iteration.
    """
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)
    net.train()
    losses: List[float] = []
    per_epoch = max(len(images) // batch_size, 1)
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        for i in range(per_epoch):
            if max_iters is not None and len(losses) >= max_iters:
                return losses
            batch = images[order[i * batch_size:(i + 1) * batch_size]]
            m = sample_bin_magnitudes(len(batch), generator)
            sign = sample_signs(len(batch), generator)
            with torch.no_grad():
                target = autoaugment_op_batch(name, batch, m, sign)
            s = signed_magnitude(m, sign, OP_SPECS[name].signed, len(batch))
            loss = F.mse_loss(net.forward_signed(batch, s), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
    return losses


@torch.no_grad()
def imitation_error(net: OpNet,
                    name: str,
                    images: Tensor,
                    magnitude: float,
                    generator: Optional[torch.Generator] = None,
                    batch_size: int = 500) -> Tuple[float, float]:
    """Mean absolute error of ``net`` against the real op at ``magnitude``
    (random signs), and the op's own mean change ``|op(x) - x|``, both in
    [0, 1] pixel units. The net runs in eval mode (no noise)."""
    was_training = net.training
    net.eval()
    err_net = err_id = 0.0
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size]
        m = torch.full((len(x), ), float(magnitude))
        sign = sample_signs(len(x), generator)
        target = autoaugment_op_batch(name, x, m, sign)
        s = signed_magnitude(m, sign, OP_SPECS[name].signed, len(x))
        err_net += (net.forward_signed(x, s) - target).abs().sum().item()
        err_id += (x - target).abs().sum().item()
    net.train(was_training)
    count = images.numel()
    return err_net / count, err_id / count


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of ``module`` (for the fitting report)."""
    return sum(p.numel() for p in module.parameters())
