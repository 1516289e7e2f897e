"""The "neural" backend of the TST augmenter: frozen nets that imitate ops.

TST (Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023, Sec. 3.2, "priori bias") makes the AutoAugment ops
differentiable in their magnitude by replacing each of the 11 magnitude ops
with a tiny network fitted beforehand (stage I, ``tools/fit_op_nets.py``) to
imitate the real op as a function of the scalar magnitude. The fitted nets
are frozen; gradients still flow through them to the magnitude (and to the
image), which is all the augmenter needs.

Two net families, following the paper and the authors' public code:

* :class:`GeometricOpNet` (ShearX/Y, TranslateX/Y, Rotate): a linear map of
  ``[6 learned values + noise, signed magnitude]`` to a 2x3 affine matrix,
  applied with ``affine_grid`` + ``grid_sample``.
* :class:`ColourOpNet` (Brightness, Color, Contrast, Sharpness, Posterize,
  Solarize): bias-free linear maps of ``[learned features + noise, signed
  magnitude, ...]`` to a per-image scale and shift, then a 5x5 convolution.

:class:`NeuralOpBank` holds one net per op and loads the fitted checkpoint.
The real ops the nets imitate (torchvision's AutoAugment ops) are here too
(:func:`autoaugment_op`, :func:`autoaugment_op_batch`), so fitting and
checking the nets uses one definition.

Conventions shared by every function here: images are float ``(N, C, H, W)``
in [0, 1] with C = 1 or 3; ``magnitude`` is the normalised magnitude in
[0, 1] (a 0-dim tensor shared by the batch, which may require grad, or a
``(N,)`` tensor during fitting); ``sign`` is a ``(N,)`` tensor of +-1; the
*signed magnitude* a net sees is ``magnitude * sign`` for signed ops
(:attr:`OpSpec.signed`) and ``magnitude`` otherwise.
"""
import math
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .op_specs import GEOMETRIC_OPS, MAGNITUDE_OPS, OP_SPECS, check_op_names

# The nets see the magnitude multiplied by this gain, i.e. the AutoAugment
# "level" 0..10 instead of 0..1. Why: the paper's fitting schedule (AdamW lr
# 1e-3, ExponentialLR gamma 0.999 per iteration) lets Adam move any weight by
# at most lr / (1 - gamma) = 1.0 in total, and e.g. TranslateX needs a weight
# of ~0.9 on a [0, 1] input. On the 0..10 scale the needed weights are ~10x
# smaller and the schedule converges. d(output)/d(magnitude) is unaffected.
MAGNITUDE_GAIN = 10.0

# The checkpoint shipped with mmtst, fitted on tinted Fashion-MNIST (see the
# .md file next to it for the command and the imitation errors).
DEFAULT_CHECKPOINT = osp.join(
    osp.dirname(osp.abspath(__file__)), 'weights', 'op_nets_fashion_mnist.pth')

FIT_HINT = ('Fit one with: python tools/fit_op_nets.py --data fashion-mnist '
            '--out {path}   (or --data folder:IMAGE_DIR for your own images; '
            'see python tools/fit_op_nets.py --help), or convert the TST '
            'authors\' published nets with '
            'tools/model_converters/tst_opnets_to_mmtst.py.')

# torchvision's rgb_to_grayscale weights: Color and Contrast are defined on
# this grey image, so the nets use the same one.
_GREY_WEIGHTS = (0.2989, 0.587, 0.114)

_IDENTITY_THETA = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def to_grey(img: Tensor) -> Tensor:
    """Grey version ``(N, 1, H, W)`` of a 1- or 3-channel image batch."""
    if img.shape[1] == 1:
        return img
    r, g, b = img.unbind(dim=1)
    grey = _GREY_WEIGHTS[0] * r + _GREY_WEIGHTS[1] * g + _GREY_WEIGHTS[2] * b
    return grey.unsqueeze(1)


def signed_magnitude(magnitude: Tensor, sign: Optional[Tensor], signed: bool,
                     num: int) -> Tensor:
    """Per-sample signed magnitude ``(num,)`` that the nets take as input.

    Args:
        magnitude: 0-dim (shared by the batch) or ``(num,)`` magnitude in
            [0, 1]; its gradient passes through.
        sign: ``(num,)`` tensor of +-1, ignored for unsigned ops (may then
            be None).
        signed: Whether the op is signed (:attr:`OpSpec.signed`).
        num: Batch size.
    """
    magnitude = torch.as_tensor(magnitude)
    if magnitude.dim() > 1 or (magnitude.dim() == 1
                               and magnitude.numel() not in (1, num)):
        raise ValueError('magnitude must be a 0-dim tensor or have one value '
                         f'per sample ({num}), got shape '
                         f'{tuple(magnitude.shape)}')
    magnitude = magnitude.reshape(-1).expand(num)
    if not signed:
        return magnitude
    if sign is None or sign.shape != (num, ):
        got = None if sign is None else tuple(sign.shape)
        raise ValueError(f'sign must be a ({num},) tensor of +-1 for a signed '
                         f'op, got {got}')
    return magnitude * sign.to(magnitude)


def _shape(value) -> Union[Tuple[int, ...], str]:
    """Shape of a checkpoint entry, or its type name if not a tensor."""
    if isinstance(value, Tensor):
        return tuple(value.shape)
    return type(value).__name__


def _apply_mask(num: int, apply_prob: float, device) -> Optional[Tensor]:
    """Per-sample apply-or-not draw, or None when every sample is applied."""
    if apply_prob >= 1.0:
        return None
    return torch.rand(num, device=device) < apply_prob


class GeometricOpNet(nn.Module):
    """Neural imitation of one affine AutoAugment op (TST, Sec. 3.2).

    ``theta = Linear(7, 6)([values + noise, gain * signed_magnitude])`` is a
    2x3 affine matrix in the normalised coordinates of ``F.affine_grid``
    (``align_corners=False``); the image is resampled with bilinear
    ``grid_sample`` and zero padding. The linear map starts with zero weights
    and the identity matrix as bias, so an unfitted net is the identity for
    every magnitude.

    The authors' net also applies the warp to only ~50% of the samples; here
    that is ``apply_prob``: a per-sample Bernoulli draw that replaces theta by
    the identity for the samples it skips (so combined warps stay exact).
    Unlike the noise, the gate does not depend on train/eval mode: it is part
    of the augmentation's per-sample randomness, not a regulariser. Fitting
    uses ``apply_prob=1.0`` (gate off).

    Args:
        signed: Whether the op takes a signed magnitude.
        noise_std: Std of the Gaussian noise added to the learned values in
            training mode only.
        apply_prob: Probability that a sample is warped; 1.0 disables the
            gate.
    """

    def __init__(self,
                 signed: bool = True,
                 noise_std: float = 0.01,
                 apply_prob: float = 1.0) -> None:
        super().__init__()
        self.signed = signed
        self.noise_std = noise_std
        self.apply_prob = apply_prob
        self.values = nn.Parameter(torch.randn(6))
        self.linear = nn.Linear(7, 6)
        with torch.no_grad():
            self.linear.weight.zero_()
            self.linear.bias.copy_(torch.tensor(_IDENTITY_THETA))
        # non-persistent: the checkpoint holds only the fitted parameters
        self.register_buffer(
            'identity', torch.tensor(_IDENTITY_THETA).view(1, 2, 3),
            persistent=False)

    def theta(self, signed_magnitude: Tensor) -> Tensor:
        """Affine matrices ``(N, 2, 3)`` for ``(N,)`` signed magnitudes,
        without the apply gate."""
        num = signed_magnitude.shape[0]
        values = self.values.expand(num, -1)
        if self.training and self.noise_std > 0:
            values = values + self.noise_std * torch.randn_like(values)
        s = MAGNITUDE_GAIN * signed_magnitude.view(num, 1).to(values)
        inputs = torch.cat([values, s], dim=1)
        return self.linear(inputs).view(num, 2, 3)

    def gated_theta(self, signed_magnitude: Tensor) -> Tensor:
        """:meth:`theta` with the per-sample apply gate (identity where a
        sample is skipped)."""
        theta = self.theta(signed_magnitude)
        mask = _apply_mask(theta.shape[0], self.apply_prob, theta.device)
        if mask is None:
            return theta
        return torch.where(mask.view(-1, 1, 1), theta,
                           self.identity.to(theta))

    @staticmethod
    def warp(img: Tensor, theta: Tensor) -> Tensor:
        """Resample ``img`` with affine matrices ``theta`` (bilinear, zero
        padding, ``align_corners=False``)."""
        theta = theta.to(img.dtype)
        grid = F.affine_grid(theta, list(img.shape), align_corners=False)
        return F.grid_sample(
            img, grid, mode='bilinear', padding_mode='zeros',
            align_corners=False)

    def forward_signed(self, img: Tensor, signed_magnitude: Tensor) -> Tensor:
        """Apply the op given per-sample signed magnitudes ``(N,)``."""
        return self.warp(img, self.gated_theta(signed_magnitude))

    def forward(self, img: Tensor, magnitude: Tensor,
                sign: Optional[Tensor] = None) -> Tensor:
        """Apply the op.

        Args:
            img: ``(N, C, H, W)`` images in [0, 1].
            magnitude: 0-dim (or ``(N,)``) magnitude in [0, 1].
            sign: ``(N,)`` signs, +-1.
        """
        s = signed_magnitude(magnitude, sign, self.signed, img.shape[0])
        return self.forward_signed(img, s)


class ColourOpNet(nn.Module):
    """Neural imitation of one colour AutoAugment op (TST, Sec. 3.2).

    A bias-free linear map of ``z = [features + noise, gain * s,
    gain * s * mean_grey(x)]`` (``s`` the signed magnitude) gives six
    per-image coefficients, and

    ``y = scale * x + shift + blend * grey(x)
    + flip * sigmoid((x - knee) / 0.02) * (1 - 2 x)``,
    ``out = clamp(y + strength * (conv5x5(y) - y), 0, 1)``.

    The parts, and why they are there:

    * ``scale``, ``shift``, the learned features, the noise and the 5x5
      convolution are the paper's. The constant part of each coefficient
      comes from the learned features (the map has no bias).
    * ``gain * s * mean_grey(x)`` (our addition): the per-image mean grey
      intensity times the signed magnitude. Contrast is
      ``(1 + v) x - v * mean_grey(x)``, a shift proportional to the image's
      own mean, which no image-independent coefficient can express.
    * ``blend`` (our addition): Color (saturation) is
      ``(1 + v) x - v * grey(x)``, a per-image blend with the grey image. The
      authors' net gets channel mixing from a full 3->3 convolution; one
      shared kernel plus this one coefficient does the same with 25 instead
      of 225 weights, works for 1- and 3-channel images alike, and starts at
      the identity.
    * ``strength`` (our addition): the paper's convolution is the same for
      every magnitude, so Sharpness (``(1 + v) x - v * blur(x)``, a kernel
      that depends on ``v``) could only be imitated on average. Scaling the
      convolution's residual by a magnitude-dependent coefficient fixes that.
      It starts at 1 (a plain convolution, as in the paper).
    * ``knee``, ``flip`` (our addition): a soft per-pixel partial
      inversion of the pixels above a knee. Solarize (``x`` below the
      threshold ``t = 1 - m``, ``1 - x`` from it on) is a per-pixel
      nonlinearity that no scale/shift/convolution reproduces: fitted with
      those alone (and with a ReLU kink, or a step times a free linear
      function, in place of this term) it came out worse than doing nothing
      at m = 0.25 and 0.5. Solarize is ``knee = t``, ``flip = 1``: only
      ``knee`` depends on the magnitude, linearly. The step's width (0.02)
      trades its sharpness against the band of pixels around the knee that
      carry gradient; it and ``knee``'s start at 1 (rather than 0.5) are
      what fitted best of the few settings we tried (0.01-0.05; 0.5, 1).
      ``flip`` starts at 0.

    The kernel is shared by all channels (a depthwise convolution with
    padding 2) and starts as the identity kernel; ``scale`` and ``strength``
    start at 1, ``shift``, ``blend`` and ``flip`` at 0 (``knee`` at 1), so
    an unfitted net is the identity. The per-sample apply gate
    (``apply_prob``, independent of train/eval mode, see
    :class:`GeometricOpNet`) returns the input unchanged where a sample is
    skipped.

    Args:
        signed: Whether the op takes a signed magnitude.
        noise_std: Std of the Gaussian noise added to the learned features in
            training mode only.
        apply_prob: Probability that a sample is transformed; 1.0 disables
            the gate.
        num_features: Number of learned features.
    """

    #: rows of the linear map's output
    COEFFICIENTS = ('scale', 'shift', 'blend', 'strength', 'knee', 'flip')
    #: width of the soft step at the knee, in [0, 1] pixel units
    STEP_WIDTH = 0.02
    # non-zero initial values (the identity op)
    _INITIAL = {'scale': 1.0, 'strength': 1.0, 'knee': 1.0}

    def __init__(self,
                 signed: bool = True,
                 noise_std: float = 0.01,
                 apply_prob: float = 1.0,
                 num_features: int = 6) -> None:
        super().__init__()
        self.signed = signed
        self.noise_std = noise_std
        self.apply_prob = apply_prob
        self.features = nn.Parameter(torch.ones(num_features))
        self.linear = nn.Linear(
            num_features + 2, len(self.COEFFICIENTS), bias=False)
        kernel = torch.zeros(5, 5)
        kernel[2, 2] = 1.0
        self.kernel = nn.Parameter(kernel)
        with torch.no_grad():
            # features are all ones: averaging them gives each coefficient
            # its constant and spreads the feature noise thinly over them
            self.linear.weight.zero_()
            for name, value in self._INITIAL.items():
                row = self.COEFFICIENTS.index(name)
                self.linear.weight[row, :num_features] = value / num_features

    def coefficients(self, img: Tensor,
                     signed_magnitude: Tensor) -> Dict[str, Tensor]:
        """Per-image coefficients (:attr:`COEFFICIENTS`), each
        ``(N, 1, 1, 1)``."""
        num = img.shape[0]
        features = self.features.expand(num, -1)
        if self.training and self.noise_std > 0:
            features = features + self.noise_std * torch.randn_like(features)
        s = MAGNITUDE_GAIN * signed_magnitude.view(num, 1).to(features)
        mean_grey = to_grey(img).mean(dim=(1, 2, 3)).view(num, 1)
        out = self.linear(torch.cat([features, s, s * mean_grey], dim=1))
        return {
            name: out[:, i].view(num, 1, 1, 1)
            for i, name in enumerate(self.COEFFICIENTS)
        }

    def _conv(self, img: Tensor) -> Tensor:
        channels = img.shape[1]
        weight = self.kernel.to(img.dtype).expand(channels, 1, 5, 5)
        return F.conv2d(img, weight, padding=2, groups=channels)

    def forward_signed(self, img: Tensor, signed_magnitude: Tensor) -> Tensor:
        """Apply the op given per-sample signed magnitudes ``(N,)``."""
        c = self.coefficients(img, signed_magnitude)
        step = torch.sigmoid((img - c['knee']) / self.STEP_WIDTH)
        y = (c['scale'] * img + c['shift'] + c['blend'] * to_grey(img) +
             c['flip'] * step * (1.0 - 2.0 * img))
        out = (y + c['strength'] * (self._conv(y) - y)).clamp(0.0, 1.0)
        mask = _apply_mask(img.shape[0], self.apply_prob, img.device)
        if mask is None:
            return out
        return torch.where(mask.view(-1, 1, 1, 1), out, img)

    def forward(self, img: Tensor, magnitude: Tensor,
                sign: Optional[Tensor] = None) -> Tensor:
        """Apply the op; arguments as in :meth:`GeometricOpNet.forward`."""
        s = signed_magnitude(magnitude, sign, self.signed, img.shape[0])
        return self.forward_signed(img, s)


OpNet = Union[GeometricOpNet, ColourOpNet]


def build_op_net(name: str, noise_std: float = 0.01,
                 apply_prob: float = 1.0) -> OpNet:
    """The (unfitted) net for magnitude op ``name``."""
    spec = OP_SPECS[name]
    if spec.kind == 'geometric':
        return GeometricOpNet(spec.signed, noise_std, apply_prob)
    if spec.kind == 'colour':
        return ColourOpNet(spec.signed, noise_std, apply_prob)
    raise ValueError(f'{name} has no magnitude, so it has no neural op net; '
                     f'ops with one: {", ".join(MAGNITUDE_OPS)}')


class NeuralOpBank(nn.Module):
    """One frozen imitation net per magnitude op (TST's "priori bias").

    Two net designs ("archs") are supported:

    * ``'mmtst'``: :class:`GeometricOpNet` / :class:`ColourOpNet`, fitted
      by ``tools/fit_op_nets.py`` (e.g. :data:`DEFAULT_CHECKPOINT`).
    * ``'authors'``: the TST authors' own nets
      (:mod:`.authors_op_nets`), loaded from a checkpoint written by
      ``tools/model_converters/tst_opnets_to_mmtst.py`` from their
      published files. Their learned apply logits are the apply gate, so
      ``apply_prob`` is ignored for them.

    :meth:`load_fitted` reads the arch from the checkpoint
    (``meta['arch']``; a plain state dict without ``meta`` is ``'mmtst'``)
    and rebuilds the nets if it differs from the bank's, so the same call
    sequence (construct, ``load_fitted``, ``freeze``) serves both.

    Args:
        ops: Names of the magnitude ops to hold (default: all 11).
        noise_std: Feature noise of every mmtst net (training mode only;
            the authors' nets use their own 0.01).
        apply_prob: Per-sample apply gate of every mmtst net; 1.0
            disables it. Ignored by the authors' nets: their learned apply
            logits gate instead (sigmoid 0.5 at initialisation; 96.5-99.7%
            of the samples in their published CIFAR checkpoints).
        checkpoint: Optional path of a fitted checkpoint to load now, e.g.
            :data:`DEFAULT_CHECKPOINT`.
        arch: ``'mmtst'`` or ``'authors'``: the nets to build before a
            checkpoint is loaded (a checkpoint's own arch wins).
        dataset_type: For ``arch='authors'``: the dataset statistics the
            nets normalise with, ``'CIFAR'`` or ``'ImageNet'`` (a
            checkpoint's own ``meta['dataset_type']`` wins).
    """

    ARCHS = ('mmtst', 'authors')

    def __init__(self,
                 ops: Iterable[str] = MAGNITUDE_OPS,
                 noise_std: float = 0.01,
                 apply_prob: float = 0.5,
                 checkpoint: Optional[str] = None,
                 arch: str = 'mmtst',
                 dataset_type: str = 'CIFAR') -> None:
        super().__init__()
        ops = check_op_names(ops)
        self.noise_std = noise_std
        self.apply_prob = apply_prob
        self.arch = None
        self.dataset_type = None  # set for arch 'authors' only
        self._default_dataset_type = dataset_type
        self._build_nets(ops, arch, dataset_type)
        self.checkpoint = None
        if checkpoint is not None:
            self.load_fitted(checkpoint)

    def _build_nets(self, ops: Sequence[str], arch: str,
                    dataset_type: str) -> None:
        """(Re)build ``self.nets`` for ``arch``, on the device of the
        current nets."""
        if arch not in self.ARCHS:
            raise ValueError(f'arch must be one of {list(self.ARCHS)}, got '
                             f'{arch!r}')
        old = next(self.parameters(), None) if hasattr(self, 'nets') else None
        if arch == 'mmtst':
            nets = {name: build_op_net(name, self.noise_std, self.apply_prob)
                    for name in ops}
        else:
            from .authors_op_nets import build_authors_op_net
            nets = {name: build_authors_op_net(name, dataset_type)
                    for name in ops}
        self.nets = nn.ModuleDict(nets)
        self.dataset_type = dataset_type if arch == 'authors' else None
        self.nets.train(self.training)
        if old is not None:
            self.nets.to(old.device)
            if not old.requires_grad:
                self.freeze()
        self.arch = arch

    @property
    def ops(self) -> Tuple[str, ...]:
        return tuple(self.nets.keys())

    def net(self, name: str) -> OpNet:
        if name not in self.nets:
            raise KeyError(f'NeuralOpBank has no net for {name!r}; it holds '
                           f'{", ".join(self.ops)}')
        return self.nets[name]

    def apply(self, *args, **kwargs):
        """``apply(name, img, magnitude, sign)`` applies op ``name``.

        ``nn.Module.apply(fn)`` (recursively calling ``fn`` on submodules,
        which parents do on their children) still works: a single callable
        argument goes to it.
        """
        if len(args) == 1 and not kwargs and callable(args[0]):
            return super().apply(args[0])
        return self.apply_op(*args, **kwargs)

    def apply_op(self, name: str, img: Tensor, magnitude: Tensor,
                 sign: Optional[Tensor] = None) -> Tensor:
        """Apply op ``name`` (see the module docstring for the arguments)."""
        return self.net(name)(img, magnitude, sign)

    def theta(self, name: str, magnitude: Tensor,
              sign: Optional[Tensor] = None,
              num: Optional[int] = None) -> Tensor:
        """Gated affine matrices ``(N, 2, 3)`` of geometric op ``name``, so
        that several warps can be combined before one resampling (apply with
        :meth:`GeometricOpNet.warp`; with the authors' nets, their warp
        fills with the dataset mean, see
        :meth:`~.authors_op_nets.AuthorsGeometricNet.fill`). ``num`` is
        needed only for an unsigned op called without ``sign``."""
        net = self.net(name)
        if OP_SPECS[name].kind != 'geometric':
            raise ValueError(f'{name} is not a geometric op; geometric ops: '
                             f'{", ".join(GEOMETRIC_OPS)}')
        if num is None:
            if sign is None:
                raise ValueError('theta needs sign or num for the batch size')
            num = sign.shape[0]
        return net.gated_theta(
            signed_magnitude(magnitude, sign, net.signed, num))

    def freeze(self) -> 'NeuralOpBank':
        """Stop gradients to the nets' parameters (they still flow to the
        magnitude and the image)."""
        for param in self.parameters():
            param.requires_grad_(False)
        return self

    def load_fitted(self, path: str) -> 'NeuralOpBank':
        """Load a fitted checkpoint and freeze.

        Either a plain state dict of mmtst's nets (written by
        ``tools/fit_op_nets.py``) or ``{'state_dict': ..., 'meta': {'arch':
        ..., ...}}`` (written by
        ``tools/model_converters/tst_opnets_to_mmtst.py``, ``arch``
        ``'authors'``); the bank switches to the checkpoint's arch (and
        dataset type) if it differs.

        Entries of ops this bank does not hold are skipped, so a bank of a
        subset of the ops loads from a full checkpoint.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            ValueError: The file is not a state dict of these nets (missing
                or unexpected keys, wrong shapes, unreadable, bad meta).
        """
        path = str(path)
        hint = FIT_HINT.format(path=path)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'Neural op checkpoint {path} does not exist. {hint}')
        try:
            state = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as err:  # corrupt file, not a torch checkpoint
            raise ValueError(f'Cannot read neural op checkpoint {path} '
                             f'({type(err).__name__}: {err}). {hint}') from err
        if not isinstance(state, dict):
            raise ValueError(f'Neural op checkpoint {path} holds a '
                             f'{type(state).__name__}, not a state dict of '
                             f'NeuralOpBank. {hint}')
        arch, dataset_type = 'mmtst', self.dataset_type
        if 'meta' in state:
            state, arch, dataset_type = self._unwrap(path, state, hint)
        previous = (self.nets, self.arch, self.dataset_type)
        try:
            if arch != self.arch or (arch == 'authors'
                                     and dataset_type != self.dataset_type):
                self._build_nets(self.ops, arch, dataset_type)
            self._check_state(path, state, hint)
            own = self.state_dict()
            self.load_state_dict({key: state[key] for key in own},
                                 strict=True)
        except Exception:
            # a failed load leaves the bank as it was
            self.nets, self.arch, self.dataset_type = previous
            raise
        self.checkpoint = path
        return self.freeze()

    def _unwrap(self, path: str, checkpoint: dict,
                hint: str) -> Tuple[dict, str, Optional[str]]:
        """``(state_dict, arch, dataset_type)`` of a checkpoint with
        ``meta``."""
        from .authors_op_nets import DATASET_STATS
        meta = checkpoint['meta']
        state = checkpoint.get('state_dict')
        if not isinstance(meta, dict) or not isinstance(state, dict):
            raise ValueError(
                f'Neural op checkpoint {path} has a "meta" entry, so it '
                'should be {"state_dict": dict, "meta": dict}; got '
                f'state_dict: {type(state).__name__}, meta: '
                f'{type(meta).__name__}. {hint}')
        arch = meta.get('arch', 'mmtst')
        if arch not in self.ARCHS:
            raise ValueError(
                f'Neural op checkpoint {path}: unknown meta["arch"] '
                f'{arch!r}; known: {list(self.ARCHS)}. {hint}')
        dataset_type = meta.get(
            'dataset_type', self.dataset_type or self._default_dataset_type)
        if arch == 'authors' and dataset_type not in DATASET_STATS:
            raise ValueError(
                f'Neural op checkpoint {path}: meta["dataset_type"] must be '
                f'one of {list(DATASET_STATS)} for the authors\' nets, got '
                f'{dataset_type!r}. Re-run tools/model_converters/'
                'tst_opnets_to_mmtst.py --dataset-type CIFAR|ImageNet.')
        return state, arch, dataset_type

    def _check_state(self, path: str, state: dict, hint: str) -> None:
        """Raise a ValueError listing what does not match ``state``."""
        own = self.state_dict()
        problems: List[str] = []
        missing = [key for key in own if key not in state]
        if missing:
            problems.append(f'missing keys {missing}')
        unexpected = [
            key for key in state if key not in own and not (
                key.startswith('nets.') and key.split('.')[1] in OP_SPECS
                and key.split('.')[1] not in self.nets)
        ]
        if unexpected:
            problems.append(f'unexpected keys {unexpected}')
        shapes = [
            f'{key}: {_shape(state[key])} vs {tuple(value.shape)}'
            for key, value in own.items()
            if key in state and _shape(state[key]) != tuple(value.shape)
        ]
        if shapes:
            problems.append(f'wrong shapes ({"; ".join(shapes)})')
        if problems:
            raise ValueError(
                f'Neural op checkpoint {path} does not match NeuralOpBank'
                f'({", ".join(self.ops)}; arch {self.arch!r}): '
                f'{"; ".join(problems)}. It may come from another version of '
                f'mmtst. {hint}')


# ---------------------------------------------------------------------------
# The real (non-differentiable) AutoAugment ops that the nets imitate.
# ---------------------------------------------------------------------------


def _to_uint8(img: Tensor) -> Tensor:
    return (img * 255.0).round().clamp(0, 255).to(torch.uint8)


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
        return TF.affine(img, angle=0.0, translate=[0, 0], scale=1.0,
                         shear=shear, interpolation=bilinear, fill=None,
                         center=[0, 0])
    if name in ('TranslateX', 'TranslateY'):
        shift = [int(value * width), 0] if name == 'TranslateX' else [
            0, int(value * height)
        ]
        return TF.affine(img, angle=0.0, translate=shift, scale=1.0,
                         shear=[0.0, 0.0], interpolation=bilinear, fill=None)
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
        return TF.posterize(_to_uint8(img), bits).to(img.dtype) / 255.0
    if name == 'Solarize':
        return TF.solarize(img, min(max(value, 0.0), 1.0))
    raise ValueError(f'{name} is not a magnitude op; magnitude ops: '
                     f'{", ".join(MAGNITUDE_OPS)}')


def autoaugment_op_batch(name: str, img: Tensor, magnitude: Tensor,
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
# Stage I: fitting (used by tools/fit_op_nets.py).
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
    return sum(p.numel() for p in module.parameters())


__all__: Sequence[str] = (
    'GeometricOpNet', 'ColourOpNet', 'NeuralOpBank', 'build_op_net',
    'autoaugment_op', 'autoaugment_op_batch', 'fit_op_net', 'imitation_error',
    'sample_bin_magnitudes', 'sample_signs', 'signed_magnitude', 'to_grey',
    'count_parameters', 'DEFAULT_CHECKPOINT', 'MAGNITUDE_GAIN')
