"""The TST authors' own op nets, so their published checkpoints load as is.

TST (Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023, Sec. 3.2, "priori bias") replaces each of the 11
magnitude ops by a tiny net fitted beforehand to imitate it. The authors
publish the nets they fitted on CIFAR (``SDAKD_FOR_BASELINE/checkpoints/
Augmentation/<Op>.pth`` in github.com/shaoshitong/TST). mmtst's own nets
(:mod:`.op_nets`) have a different design; the two classes here rebuild
the authors' design with exactly their parameter names and shapes, so that
``tools/model_converters/tst_opnets_to_mmtst.py`` can turn the 11 published
files into one mmtst checkpoint, and :class:`~.neural_ops.NeuralOpBank`
loads it (it reads ``meta['arch'] == 'authors'``, see
:func:`checkpoint_meta`) and then applies the authors' exact augmenter.

* :class:`AuthorsGeometricNet` (ShearX/Y, TranslateX/Y, Rotate): state
  ``H`` (6,), ``fc`` = Linear(7, 6), ``logits`` (1,), buffer ``i_matrix``
  (1, 2, 3). ``theta = fc([H, s] + noise)`` (a 2x3 matrix in the normalised
  coordinates of ``F.affine_grid``, ``align_corners=False``), mixed with the
  identity by a per-sample relaxed-Bernoulli gate on ``logits``.
* :class:`AuthorsColourNet` (Brightness, Color, Contrast, Sharpness,
  Posterize, Solarize): state ``n_regress``, ``c_regress`` = Linear(11, 2,
  bias=False), ``scale`` (1,), ``logits`` (1,), ``feature`` (10,),
  ``conv`` = Conv2d(3, 3, 5, padding=2, bias=False). With
  ``z = [feature + noise, s]``: ``a = sigmoid(n_regress(z) + c_regress(z))``,
  scale ``= self.scale * (a_0 - 0.5) + 1``, shift ``= a_1 - 0.5``; the
  per-sample gate ``g`` (relaxed Bernoulli on ``logits``) gives
  ``scale' = 1 - g + g * scale``, ``shift' = g * shift``; then
  ``out = conv((scale' * x + shift') * mask)`` with ``mask`` zero on the
  rows and columns that are entirely zero-padding (every pixel's channel
  sum exactly 0). Note that the convolution is NOT gated: a sample the gate
  skips is still convolved, which is why these nets change an image even at
  magnitude 0.

Units. The authors' nets work on images normalised with the dataset mean
and std (:data:`DATASET_STATS`). Nets here take mmtst's ``(N, C, H, W)``
images in [0, 1], normalise them with their stored mean/std, run, and map
the result back to [0, 1] units (without clamping, as the authors do not
clamp; about 5% of pixels leave [0, 1]). So the warp's zero padding is zero
*in normalised units*, i.e. the dataset mean colour in [0, 1] units
(:meth:`AuthorsGeometricNet.fill`). A 1-channel image is repeated to 3
channels (the authors' nets are RGB-only: ``conv`` mixes 3 channels) and the
3-channel output is averaged back to 1 channel.

Magnitude. The net sees the *signed magnitude* ``s`` (:mod:`.op_nets`
conventions): ``m * sign`` for signed ops, ``m`` for Posterize/Solarize,
without mmtst's ``MAGNITUDE_GAIN``: the authors fitted their nets on
``s`` in (-1, 1) and feed the augmenter's ``m`` in (0, 1) as is (pass
``sign = +1`` to reproduce that).

Randomness. In training mode (``net.train()``) Gaussian noise of std 0.01
is added to the net's input vector as the authors do (geometric net: all 7
entries, magnitude included, drawn per sample; colour net: the 10
features, one draw shared by the batch). In eval mode
(``net.eval()``) there is no noise -- a departure: the authors' colour net
adds its noise in every mode. The apply gate does NOT depend on the mode: it
is the per-sample randomness of the augmentation (as with mmtst's nets),
the authors' learned ``logits`` set its rate (sigmoid(logits), 96-100% in
the published checkpoints), and it is a soft relaxed-Bernoulli sample with
temperature 0.05 exactly as in their code.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .affine import IDENTITY_THETA, warp_normalised

#: The value of ``meta['arch']`` in a converted checkpoint.
ARCH = 'authors'

#: Dataset mean and std (per RGB channel, [0, 1] units) the authors
#: normalise with, by their ``dataset_type`` (their code uses the ImageNet
#: statistics for any type other than 'CIFAR').
DATASET_STATS: Dict[str, Tuple[Tuple[float, ...], Tuple[float, ...]]] = {
    'CIFAR': ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)),
    'ImageNet': ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}

#: Temperature of the authors' relaxed-Bernoulli apply gate.
GATE_TEMPERATURE = 0.05
#: Std of the authors' input noise (``randn / 100``).
NOISE_STD = 0.01


def check_dataset_type(dataset_type: str) -> str:
    if dataset_type not in DATASET_STATS:
        raise ValueError(f'dataset_type must be one of {list(DATASET_STATS)}, '
                         f'got {dataset_type!r}')
    return dataset_type


def relaxed_bernoulli_gate(logit: Tensor,
                           shape: Sequence[int],
                           temperature: float = GATE_TEMPERATURE) -> Tensor:
    """Soft Bernoulli(sigmoid(logit)) samples of ``shape``: ``sigmoid((logit
    + log u - log(1 - u)) / temperature)``, ``u ~ U[0, 1)`` (the authors'
    ``relaxed_bernoulli``, without clamping ``u``)."""
    logits = logit.reshape(-1)[0].expand(*shape)
    u = torch.rand(tuple(shape), device=logit.device, dtype=logit.dtype)
    return ((torch.log(u) - torch.log(1 - u) + logits) / temperature).sigmoid()


class _NormalisedNet(nn.Module):
    """Holds the dataset statistics and converts [0, 1] <-> normalised.

    The statistics are non-persistent buffers, so the state dict holds
    exactly the authors' keys.
    """

    def __init__(self, signed: bool, dataset_type: str) -> None:
        super().__init__()
        self.signed = signed
        self.dataset_type = check_dataset_type(dataset_type)
        mean, std = DATASET_STATS[dataset_type]
        self.register_buffer(
            'mean', torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer(
            'std', torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def normalise(self, img: Tensor) -> Tensor:
        """[0, 1] ``(N, 1|3, H, W)`` -> normalised ``(N, 3, H, W)``."""
        if img.dim() != 4 or img.shape[1] not in (1, 3):
            raise ValueError('expected images (N, 1 or 3, H, W), got shape '
                             f'{tuple(img.shape)}')
        if img.shape[1] == 1:
            img = img.expand(-1, 3, -1, -1)
        return (img - self.mean.to(img)) / self.std.to(img)

    def denormalise(self, out: Tensor, channels: int) -> Tensor:
        """Normalised ``(N, 3, H, W)`` -> [0, 1] units, ``channels`` 1 or 3
        (1: the mean of the three channels)."""
        out = out * self.std.to(out) + self.mean.to(out)
        return out.mean(dim=1, keepdim=True) if channels == 1 else out

    def signed_magnitude(self, magnitude: Tensor, sign: Optional[Tensor],
                         num: int) -> Tensor:
        from .op_nets import signed_magnitude
        return signed_magnitude(magnitude, sign, self.signed, num)

    def forward(self,
                img: Tensor,
                magnitude: Tensor,
                sign: Optional[Tensor] = None) -> Tensor:
        """Apply the op.

        Args:
            img: ``(N, C, H, W)`` images in [0, 1], C = 1 or 3.
            magnitude: 0-dim (or ``(N,)``) magnitude in [0, 1]; may
                require grad.
            sign: ``(N,)`` signs, +-1 (only for signed ops).
        """
        s = self.signed_magnitude(magnitude, sign, img.shape[0])
        return self.forward_signed(img, s)


class AuthorsGeometricNet(_NormalisedNet):
    """The TST authors' affine op net (IJCAI 2023, Sec. 3.2), their layout.

    ``theta = fc([H, s] + noise)``, a 2x3 matrix per sample in the
    normalised coordinates of ``F.affine_grid`` (``align_corners=False``,
    PyTorch's default in their code); the apply gate ``g`` (relaxed
    Bernoulli, temperature 0.05, on the learned ``logits``, one draw per
    sample, random in train and eval mode) gives
    ``(1 - g) * i_matrix + g * theta``; the image is resampled with bilinear
    ``grid_sample`` and zero padding in normalised units (the dataset mean in
    [0, 1] units, :meth:`fill`). Noise (std 0.01 on all 7 inputs, as the
    authors) only in training mode.

    The methods :meth:`theta`, :meth:`gated_theta` and :meth:`warp` match
    :class:`~.op_nets.GeometricOpNet`, so
    :meth:`~.neural_ops.NeuralOpBank.theta` works with either; a caller that
    composes thetas and warps itself should fill with :meth:`fill` to match
    the authors.

    Args:
        signed: Whether the op takes a signed magnitude.
        dataset_type: 'CIFAR' or 'ImageNet' (:data:`DATASET_STATS`).
    """

    def __init__(self,
                 signed: bool = True,
                 dataset_type: str = 'CIFAR') -> None:
        super().__init__(signed, dataset_type)
        self.H = nn.Parameter(torch.randn(6))
        self.fc = nn.Linear(7, 6)
        self.logits = nn.Parameter(torch.zeros(1))
        with torch.no_grad():
            self.fc.weight.zero_()
            self.fc.bias.copy_(torch.tensor(IDENTITY_THETA).view(6))
        self.register_buffer('i_matrix',
                             torch.tensor(IDENTITY_THETA).view(1, 2, 3))

    def theta(self, signed_magnitude: Tensor) -> Tensor:
        """Affine matrices ``(N, 2, 3)`` for ``(N,)`` signed magnitudes,
        without the apply gate."""
        num = signed_magnitude.shape[0]
        inputs = torch.cat([
            self.H.view(1, 6).expand(num, 6),
            signed_magnitude.reshape(num, 1).to(self.H)
        ],
                           dim=1)
        if self.training:
            inputs = inputs + NOISE_STD * torch.randn_like(inputs)
        return self.fc(inputs).view(num, 2, 3)

    def gated_theta(self, signed_magnitude: Tensor) -> Tensor:
        """:meth:`theta` mixed with ``i_matrix`` by the per-sample gate."""
        theta = self.theta(signed_magnitude)
        gate = relaxed_bernoulli_gate(self.logits, (theta.shape[0], 1, 1))
        return (1 - gate) * self.i_matrix.to(theta) + gate * theta

    def fill(self, channels: int = 3) -> Tensor:
        """The padding colour ``(channels,)`` of the authors' warp in [0, 1]
        units (zero in normalised units = the dataset mean)."""
        mean = self.mean.view(3)
        return mean.mean(0, keepdim=True) if channels == 1 else mean.clone()

    def warp(self, img: Tensor, theta: Tensor) -> Tensor:
        """Resample [0, 1] images with normalised ``theta`` as the authors
        do: bilinear, zero padding in normalised units,
        ``align_corners=False``."""
        out = warp_normalised(self.normalise(img), theta)
        return self.denormalise(out, img.shape[1])

    def forward_signed(self, img: Tensor, signed_magnitude: Tensor) -> Tensor:
        """Apply the op given per-sample signed magnitudes ``(N,)``."""
        return self.warp(img, self.gated_theta(signed_magnitude))


class AuthorsColourNet(_NormalisedNet):
    """The TST authors' colour op net (IJCAI 2023, Sec. 3.2), their layout.

    See the module docstring for the formula. The gate (relaxed Bernoulli,
    temperature 0.05, on the learned ``logits``, one draw per sample) is
    random in train and eval mode; feature noise (std 0.01) only in training
    mode. The output is not clamped.

    Args:
        signed: Whether the op takes a signed magnitude.
        dataset_type: 'CIFAR' or 'ImageNet' (:data:`DATASET_STATS`).
    """

    NUM_FEATURES = 10

    def __init__(self,
                 signed: bool = True,
                 dataset_type: str = 'CIFAR') -> None:
        super().__init__(signed, dataset_type)
        width = self.NUM_FEATURES + 1
        self.n_regress = nn.Linear(width, 2, bias=False)
        self.c_regress = nn.Linear(width, 2, bias=False)
        self.scale = nn.Parameter(torch.ones(1))
        self.logits = nn.Parameter(torch.zeros(1))
        self.feature = nn.Parameter(torch.randn(self.NUM_FEATURES))
        self.conv = nn.Conv2d(3, 3, 5, padding=2, bias=False)

    def scale_shift(self, signed_magnitude: Tensor) -> Tuple[Tensor, Tensor]:
        """Gated per-sample ``(scale, shift)``, each ``(N, 1, 1, 1)``."""
        num = signed_magnitude.shape[0]
        feature = self.feature
        if self.training:
            # one draw for the whole batch, as the authors
            feature = feature + NOISE_STD * torch.randn_like(feature)
        feature = feature.view(1, -1).expand(num, -1)
        z = torch.cat(
            [feature, signed_magnitude.reshape(num, 1).to(feature)], dim=1)
        a = (self.n_regress(z) + self.c_regress(z)).sigmoid()
        scale = self.scale * (a[:, 0] - 0.5) + 1
        shift = a[:, 1] - 0.5
        gate = relaxed_bernoulli_gate(self.logits, (num, ))
        scale = 1 - gate + gate * scale
        shift = gate * shift
        return scale.view(num, 1, 1, 1), shift.view(num, 1, 1, 1)

    @staticmethod
    def padding_mask(x: Tensor) -> Tensor:
        """``(N, 1, H, W)`` bool: False on rows/columns made only of pixels
        whose normalised channel sum is exactly 0 (zero padding)."""
        with torch.no_grad():
            height, width = x.shape[-2:]
            zero = (x.sum(1, keepdim=True) == 0).float()
            return torch.logical_and(
                zero.sum(-1, keepdim=True) < width,
                zero.sum(-2, keepdim=True) < height)

    def forward_signed(self, img: Tensor, signed_magnitude: Tensor) -> Tensor:
        """Apply the op given per-sample signed magnitudes ``(N,)``."""
        x = self.normalise(img)
        scale, shift = self.scale_shift(signed_magnitude)
        y = (scale.to(x) * x + shift.to(x)) * self.padding_mask(x)
        out = F.conv2d(y, self.conv.weight.to(y), padding=2)
        return self.denormalise(out, img.shape[1])


AuthorsOpNet = Union[AuthorsGeometricNet, AuthorsColourNet]


def build_authors_op_net(name: str,
                         dataset_type: str = 'CIFAR') -> AuthorsOpNet:
    """The (unfitted) authors' net for magnitude op ``name``."""
    from .op_specs import MAGNITUDE_OPS, OP_SPECS
    spec = OP_SPECS.get(name)
    if spec is None or not spec.has_magnitude:
        raise ValueError(f'{name!r} has no op net; ops with one: '
                         f'{", ".join(MAGNITUDE_OPS)}')
    if spec.kind == 'geometric':
        return AuthorsGeometricNet(spec.signed, dataset_type)
    return AuthorsColourNet(spec.signed, dataset_type)


def expected_state_shapes(name: str) -> Dict[str, Tuple[int, ...]]:
    """``{key: shape}`` of the authors' state dict for op ``name``."""
    return {
        key: tuple(value.shape)
        for key, value in build_authors_op_net(name).state_dict().items()
    }


def checkpoint_meta(dataset_type: str, source: str,
                    ops: Sequence[str]) -> Dict[str, Union[str, List[str]]]:
    """The ``meta`` entry of a converted checkpoint (plain str/list, so
    the file stays ``weights_only``-loadable)."""
    return dict(
        arch=ARCH,
        dataset_type=check_dataset_type(dataset_type),
        source=str(source),
        ops=list(ops),
        converted_by='mmtst tools/model_converters/'
        'tst_opnets_to_mmtst.py')


__all__ = ('AuthorsGeometricNet', 'AuthorsColourNet', 'build_authors_op_net',
           'expected_state_shapes', 'checkpoint_meta',
           'relaxed_bernoulli_gate', 'DATASET_STATS', 'ARCH',
           'GATE_TEMPERATURE', 'NOISE_STD')
