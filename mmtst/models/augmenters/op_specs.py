"""The TST operation pool: names, kinds and AutoAugment magnitude ranges.

TST (Shao et al., "Teaching What You Should Teach", IJCAI 2023, Sec. 3.2)
searches over 14 AutoAugment operations (Cubuk et al., CVPR 2019): 11 have a
learnable magnitude and probability, three (Equalize, Invert, Cutout) a
learnable probability only. A normalised magnitude ``m`` in [0, 1] maps onto
the AutoAugment range below (:meth:`OpSpec.value`; for a batch of images,
:func:`op_value`); signed ops get a random sign per sample.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple, Union

import torch
from torch import Tensor

# A normalised magnitude: a float, or a tensor that may require grad.
Magnitude = Union[Tensor, float]


@dataclass(frozen=True)
class OpSpec:
    """One operation of the pool.

    Args:
        name: The op's name as used in configs (AutoAugment spelling).
        kind: ``'geometric'`` (an affine warp), ``'colour'`` (pixel values
            only) or ``'fixed'`` (no magnitude: probability only).
        low: Value of the op's parameter at m = 0.
        high: Value of the op's parameter at m = 1.
        signed: Whether the value gets a random sign per sample.
    """
    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    signed: bool = False

    @property
    def has_magnitude(self) -> bool:
        return self.kind != 'fixed'

    def value(self, magnitude, sign=1.0):
        """Map the normalised magnitude (and sign) onto the op's range.

        Works on floats and tensors alike, so the gradient of a tensor
        magnitude passes through.
        """
        value = self.low + (self.high - self.low) * magnitude
        return value * sign if self.signed else value


# Translate is relative to the image side (AutoAugment: 150 px of 331).
TRANSLATE_FRACTION = 150.0 / 331.0

OP_SPECS: Dict[str, OpSpec] = {
    spec.name: spec
    for spec in (
        # colour ops: factor 1 + sign * 0.9 * m for the four enhance ops
        OpSpec('Brightness', 'colour', 0.0, 0.9, signed=True),
        OpSpec('Color', 'colour', 0.0, 0.9, signed=True),
        OpSpec('Contrast', 'colour', 0.0, 0.9, signed=True),
        OpSpec('Sharpness', 'colour', 0.0, 0.9, signed=True),
        OpSpec('Posterize', 'colour', 8.0, 4.0),  # bits kept
        OpSpec('Solarize', 'colour', 1.0, 0.0),  # threshold on [0, 1]
        # geometric ops
        OpSpec('ShearX', 'geometric', 0.0, 0.3, signed=True),
        OpSpec('ShearY', 'geometric', 0.0, 0.3, signed=True),
        OpSpec(
            'TranslateX', 'geometric', 0.0, TRANSLATE_FRACTION, signed=True),
        OpSpec(
            'TranslateY', 'geometric', 0.0, TRANSLATE_FRACTION, signed=True),
        OpSpec('Rotate', 'geometric', 0.0, 30.0, signed=True),  # degrees
        # probability-only ops
        OpSpec('Equalize', 'fixed'),
        OpSpec('Invert', 'fixed'),
        OpSpec('Cutout', 'fixed'),
    )
}

ALL_OPS: Tuple[str, ...] = tuple(OP_SPECS)
MAGNITUDE_OPS: Tuple[str, ...] = tuple(name for name, spec in OP_SPECS.items()
                                       if spec.has_magnitude)
GEOMETRIC_OPS: Tuple[str, ...] = tuple(name for name, spec in OP_SPECS.items()
                                       if spec.kind == 'geometric')
COLOUR_OPS: Tuple[str, ...] = tuple(name for name, spec in OP_SPECS.items()
                                    if spec.kind == 'colour')


def check_op_names(names) -> Tuple[str, ...]:
    """Return ``names`` as a tuple, or raise a ValueError naming the unknown
    ones and listing the valid choices."""
    names = tuple(names)
    unknown = [n for n in names if n not in OP_SPECS]
    if unknown:
        raise ValueError(
            f'Unknown augmentation op(s) {unknown}. Valid ops are: '
            f'{", ".join(ALL_OPS)} (names are case-sensitive).')
    if len(set(names)) != len(names):
        raise ValueError(f'Augmentation ops are listed twice: {names}')
    return names


def as_tensor(value: Magnitude, like: Tensor) -> Tensor:
    """Return ``value`` as a floating tensor on ``like``'s device.

    A tensor that already has the right dtype and device is returned as is,
    so a magnitude that requires grad stays in the autograd graph.
    """
    dtype = (
        like.dtype if like.is_floating_point() else torch.get_default_dtype())
    if isinstance(value, Tensor):
        return value.to(device=like.device, dtype=dtype)
    return torch.tensor(value, dtype=dtype, device=like.device)


def sign_or_ones(sign: Optional[Tensor], img: Tensor) -> Tensor:
    """Per-sample sign as a ``(N,)`` float tensor; +1 where not given."""
    if sign is None:
        return img.new_ones(img.shape[0])
    return as_tensor(sign, img).reshape(-1)


def op_value(name: str, img: Tensor, magnitude: Magnitude,
             sign: Optional[Tensor]) -> Tensor:
    """The op's AutoAugment value, shaped to broadcast against ``img``.

    For the enhance ops the value is the offset of the blend factor
    (factor = 1 + value), as in torchvision's ``_apply_op``.

    Returns a 0-dim tensor (batch-shared value) or a ``(N, 1, 1, 1)`` tensor
    (per-sample value, e.g. because of the per-sample sign).
    """
    if magnitude is None:
        raise ValueError(f'Op {name} needs a magnitude.')
    spec = OP_SPECS[name]
    m = as_tensor(magnitude, img)
    if spec.signed:
        value = spec.value(m, sign_or_ones(sign, img))
    else:
        value = spec.value(m)
    return value.reshape(-1, 1, 1, 1) if value.dim() > 0 else value
