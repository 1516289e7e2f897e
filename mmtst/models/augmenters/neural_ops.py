"""The "neural" backend of the TST augmenter: a bank of frozen op nets.

TST (Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023, Sec. 3.2, "priori bias") applies each magnitude op
through a tiny net fitted beforehand to imitate it, so the augmentation is
differentiable in the magnitude. :class:`NeuralOpBank` holds one such net per
op, mmtst's own (:mod:`.op_nets`) or the authors' (:mod:`.authors_op_nets`),
and loads them frozen from a fitted checkpoint (:mod:`.op_net_checkpoint`).
The conventions (images, magnitudes, signs) are those of :mod:`.op_nets`.
"""
from typing import Iterable, Optional, Sequence, Tuple

import torch.nn as nn
from torch import Tensor

from .op_net_checkpoint import ARCHS, check_state, read_checkpoint
from .op_nets import OpNet, build_op_net, signed_magnitude
from .op_specs import GEOMETRIC_OPS, MAGNITUDE_OPS, OP_SPECS, check_op_names

__all__: Sequence[str] = ('NeuralOpBank', )


class NeuralOpBank(nn.Module):
    """One frozen imitation net per magnitude op (TST's "priori bias").

    Two net designs ("archs") are supported:

    * ``'mmtst'``: :class:`GeometricOpNet` / :class:`ColourOpNet`, fitted
      by ``tools/fit_op_nets.py`` (e.g.
      :data:`~.op_net_checkpoint.SHIPPED_OP_NETS`).
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
            :data:`~.op_net_checkpoint.SHIPPED_OP_NETS`.
        arch: ``'mmtst'`` or ``'authors'``: the nets to build before a
            checkpoint is loaded (a checkpoint's own arch wins).
        dataset_type: For ``arch='authors'``: the dataset statistics the
            nets normalise with, ``'CIFAR'`` or ``'ImageNet'`` (a
            checkpoint's own ``meta['dataset_type']`` wins).
    """

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
        if arch not in ARCHS:
            raise ValueError(f'arch must be one of {list(ARCHS)}, got '
                             f'{arch!r}')
        old = next(self.parameters(), None) if hasattr(self, 'nets') else None
        if arch == 'mmtst':
            nets = {
                name: build_op_net(name, self.noise_std, self.apply_prob)
                for name in ops
            }
        else:
            from .authors_op_nets import build_authors_op_net
            nets = {
                name: build_authors_op_net(name, dataset_type)
                for name in ops
            }
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

    def apply_op(self,
                 name: str,
                 img: Tensor,
                 magnitude: Tensor,
                 sign: Optional[Tensor] = None) -> Tensor:
        """Apply op ``name`` (see the module docstring for the arguments)."""
        return self.net(name)(img, magnitude, sign)

    def theta(self,
              name: str,
              magnitude: Tensor,
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
        state, arch, dataset_type = read_checkpoint(
            path, self.dataset_type or self._default_dataset_type)
        previous = (self.nets, self.arch, self.dataset_type)
        try:
            if arch != self.arch or (arch == 'authors'
                                     and dataset_type != self.dataset_type):
                self._build_nets(self.ops, arch, dataset_type)
            check_state(path, state, self.state_dict(), self.ops, self.arch)
            own = self.state_dict()
            self.load_state_dict({key: state[key] for key in own}, strict=True)
        except Exception:
            # a failed load leaves the bank as it was
            self.nets, self.arch, self.dataset_type = previous
            raise
        self.checkpoint = path
        return self.freeze()
