"""What TST's augmenter learns and draws: p and m per op, picks and gates.

"Teaching What You Should Teach: A Data-Based Distillation Method" (Shao et
al., IJCAI 2023, Sec. 3.2): each op of the pool has a probability logit
(p = sigmoid) and, if it has a magnitude, a magnitude logit (m = sigmoid),
all initialised to 0 (p = m = 0.5). Every batch picks ``solve_number`` ops
at random and draws a soft gate g_i ~ RelaxedBernoulli(temperature) for
each, so that gradients reach p, and a sign per sample for signed ops.

:class:`PolicyParameters` holds these parameters and the draws;
:class:`~.learnable_policy.LearnableAugmentPolicy` builds on it and applies
the drawn ops to images (the options are explained in its docstring).
"""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from .op_specs import OP_SPECS, check_op_names

__all__ = ['PolicyParameters']


class PolicyParameters(BaseModule):
    """The learnable p and m of every op and the per-batch random draws.

    Args:
        ops: Op names.
        solve_number: Ops picked per batch (K).
        temperature: Relaxed-Bernoulli temperature.
        gate_input: ``'probability'`` or ``'logit'`` (what the relaxed
            Bernoulli takes as its logits, see :meth:`gate_logits`).
        gate_granularity: ``'batch'`` (one gate per picked op) or
            ``'sample'`` (one per sample).
        magnitude_sign: ``'positive'`` or ``'random'`` (a random sign per
            sample).
        probability_logit_bound: None (the paper: p's logit is free), or
            B > 0: p's logit is kept in [-B, B], see
            :meth:`project_probability_logits_`.
        init_cfg: mmengine init config. Defaults to None.

    The arguments are checked by
    :func:`~.policy_options.check_policy_options`.
    """

    def __init__(self,
                 ops: Sequence[str],
                 solve_number: int,
                 temperature: float,
                 gate_input: str,
                 gate_granularity: str,
                 magnitude_sign: str,
                 probability_logit_bound: Optional[float] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.ops = check_op_names(ops)
        self.solve_number = solve_number
        self.temperature = temperature
        self.gate_input = gate_input
        self.gate_granularity = gate_granularity
        self.magnitude_sign = magnitude_sign
        self.probability_logit_bound = probability_logit_bound

        self.magnitude_ops = tuple(op for op in self.ops
                                   if OP_SPECS[op].has_magnitude)
        self.probability_logits = nn.Parameter(torch.zeros(len(self.ops)))
        self.magnitude_logits = nn.Parameter(
            torch.zeros(len(self.magnitude_ops)))
        self._magnitude_index = {
            op: i
            for i, op in enumerate(self.magnitude_ops)
        }
        # the last batch's picked ops and their per-sample gates (pictures)
        self.last_draws: List[Tuple[str, Tensor]] = []

    def bounded_probability_logits(self) -> Tensor:
        """p's logits, inside [-B, B] with ``probability_logit_bound=B``.

        The projection itself happens before each draw
        (:meth:`project_probability_logits_`); between an augmenter step
        and the next draw the parameter may lie outside, so the value is
        clamped here too. The clamp is applied to a detached copy: where
        the parameter is inside (always, at a draw) this is the identity in
        value and gradient (``clamp`` itself gives no gradient at the
        bound)."""
        logits = self.probability_logits
        bound = self.probability_logit_bound
        if bound is None:
            return logits
        with torch.no_grad():
            shift = logits.clamp(-bound, bound) - logits
        return logits + shift

    def project_probability_logits_(self) -> None:
        """Projected gradient steps: put p's logits back into [-B, B].

        Beyond the paper, for ``probability_logit_bound=B``. With the
        paper's free logits, a few large augmenter steps can take p of an
        op to 0 or 1, where sigmoid's gradient vanishes (about 5e-5 at a
        logit of 10) and no later phase can move it back: whatever the
        first noisy steps chose stays (mmtst's patient Fashion-MNIST runs
        locked Invert fully on this way). Projected back onto [-B, B]
        before every draw, p stays in [sigmoid(-B), sigmoid(B)] and its
        gradient at least sigmoid'(B) (0.10 for B = 2), so the objective
        can always undo an earlier step."""
        bound = self.probability_logit_bound
        if bound is None:
            return
        with torch.no_grad():
            if self.probability_logits.abs().max() > bound:
                self.probability_logits.clamp_(-bound, bound)

    def probabilities(self) -> Tensor:
        """p of every op, in ``self.ops`` order."""
        return self.bounded_probability_logits().sigmoid()

    def magnitudes(self) -> Tensor:
        """m of every magnitude op, in ``self.magnitude_ops`` order."""
        return self.magnitude_logits.sigmoid()

    def magnitude_of(self, name: str) -> Tensor:
        """m of magnitude op ``name`` (0-dim, in the autograd graph)."""
        return self.magnitudes()[self._magnitude_index[name]]

    def policy_dict(self) -> Dict[str, float]:
        """``{'p_Op': p, 'm_Op': m}`` for logging and plotting."""
        policy = {
            f'p_{op}': float(p)
            for op, p in zip(self.ops,
                             self.probabilities().detach())
        }
        policy.update({
            f'm_{op}': float(m)
            for op, m in zip(self.magnitude_ops,
                             self.magnitudes().detach())
        })
        return policy

    def gate_logits(self) -> Tensor:
        """What the relaxed Bernoulli takes as logits (see ``gate_input``)."""
        if self.gate_input == 'probability':
            return self.probabilities()
        return self.bounded_probability_logits()

    def _gates(self, logits: Tensor, num: int) -> Tensor:
        """(K, N) gates: relaxed Bernoulli samples in training, hard ones
        in eval; with ``gate_granularity='batch'`` one draw per op is
        repeated over the N samples."""
        draws = 1 if self.gate_granularity == 'batch' else num
        u = torch.rand(
            logits.numel(), draws, device=logits.device,
            dtype=logits.dtype).clamp(1e-6, 1 - 1e-6)
        noise = u.log() - (-u).log1p()
        if self.training:
            gates = torch.sigmoid((logits[:, None] + noise) / self.temperature)
        else:
            gates = (logits[:, None] + noise > 0).to(logits.dtype)
        return gates.expand(-1, num)

    def _draws(self, x: Tensor) -> Iterator[Tuple[Tensor, str, Tensor]]:
        """The batch's picked ops: (gate (N,), name, sign (N,)) each.

        A generator: each op's signs are drawn when the caller asks for the
        op, i.e. after the previous op was applied."""
        num = x.size(0)
        self.project_probability_logits_()
        chosen = torch.randperm(len(self.ops))[:self.solve_number].tolist()
        gates = self._gates(self.gate_logits()[chosen], num)
        self.last_draws = [(self.ops[index], gate.detach().expand(num))
                           for gate, index in zip(gates, chosen)]
        for gate, index in zip(gates, chosen):
            if self.magnitude_sign == 'random':
                sign = torch.randint(
                    0, 2, (num, ), device=x.device).to(x.dtype) * 2 - 1
            else:
                sign = x.new_ones(num)
            yield gate, self.ops[index], sign
