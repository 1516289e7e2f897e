"""Distillation losses against values computed by hand (plain math)."""
import math

import pytest
import torch

from mmtst.models.losses import DKDLoss, KDLoss, KLDivergence, TSTAugmentLoss


def softmax(values, tau=1.0):
    exps = [math.exp(v / tau) for v in values]
    return [e / sum(exps) for e in exps]


def kl(p, q):
    return sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))


S = [[1.0, 2.0, 0.5], [0.2, -1.0, 3.0]]
T = [[3.0, 1.0, 0.0], [0.0, 0.5, 2.0]]
Y = [0, 2]


def tensors():
    return torch.tensor(S), torch.tensor(T), torch.tensor(Y)


def test_kd_loss_matches_hand_computation():
    tau, alpha = 4.0, 0.5
    ce = sum(-math.log(softmax(s)[y]) for s, y in zip(S, Y)) / 2
    kd = sum(kl(softmax(t, tau), softmax(s, tau)) for s, t in zip(S, T)) / 2
    out = KDLoss(tau=tau, alpha=alpha)(*tensors())
    assert out['loss_ce'].item() == pytest.approx(ce, rel=1e-5)
    assert out['loss_kd'].item() == pytest.approx(
        alpha * tau**2 * kd, rel=1e-5)


def test_kd_loss_soft_targets():
    s, t, _ = tensors()
    soft = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.0, 1.0]])
    expected = -sum(p * math.log(q) for row_p, row_s in zip(soft.tolist(), S)
                    for p, q in zip(row_p, softmax(row_s)) if p > 0) / 2
    assert KDLoss()(s, t, soft)['loss_ce'].item() == pytest.approx(
        expected, rel=1e-5)


def test_kl_divergence_is_funmatch_loss():
    tau = 2.0
    expected = tau**2 * sum(
        kl(softmax(t, tau), softmax(s, tau)) for s, t in zip(S, T)) / 2
    out = KLDivergence(tau=tau)(*tensors())
    assert list(out) == ['loss_kl']
    assert out['loss_kl'].item() == pytest.approx(expected, rel=1e-5)


def test_dkd_loss_matches_hand_computation():
    tau, alpha, beta = 2.0, 1.0, 8.0
    tckd = nckd = 0.0
    for s, t, y in zip(S, T, Y):
        ps, pt = softmax(s, tau), softmax(t, tau)
        tckd += kl([pt[y], 1 - pt[y]], [ps[y], 1 - ps[y]])
        rest_s = softmax([v for i, v in enumerate(s) if i != y], tau)
        rest_t = softmax([v for i, v in enumerate(t) if i != y], tau)
        nckd += kl(rest_t, rest_s)
    out = DKDLoss(tau=tau, alpha=alpha, beta=beta, warmup=0)(*tensors())
    assert out['loss_tckd'].item() == pytest.approx(
        alpha * tau**2 * tckd / 2, rel=1e-4)
    assert out['loss_nckd'].item() == pytest.approx(
        beta * tau**2 * nckd / 2, rel=1e-4)


def test_dkd_warmup_follows_the_epoch():
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_dkd_warmup')
    loss = DKDLoss(warmup=4)
    hub.update_info('epoch', 0)
    assert loss.warmup_factor() == pytest.approx(0.25)
    hub.update_info('epoch', 9)
    assert loss.warmup_factor() == 1.0


def test_tst_augment_loss_matches_paper_formula():
    s, t, y = tensors()
    teacher_ce = sum(-math.log(softmax(r)[c]) for r, c in zip(T, Y)) / 2
    anti = sum(-math.log(1 - softmax(r)[c] + 1e-8) for r, c in zip(S, Y)) / 2
    out = TSTAugmentLoss()(s, t, y)
    assert out['loss_teacher_ce'].item() == pytest.approx(teacher_ce, rel=1e-5)
    assert out['loss_student_anti_ce'].item() == pytest.approx(anti, rel=1e-5)


def test_tst_augment_loss_is_finite_for_extreme_logits():
    """The authors' -log(softmax) gives inf here and NaN gradients."""
    student = torch.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    teacher = torch.tensor([[-1000.0, 1000.0, 0.0]], requires_grad=True)
    target = torch.tensor([0])
    out = TSTAugmentLoss()(student, teacher, target)
    total = sum(out.values())
    total.backward()
    assert torch.isfinite(total)
    # the student is certain of the true class: anti-CE is at its bound
    assert out['loss_student_anti_ce'].item() == pytest.approx(
        -math.log(1e-8), rel=1e-4)
    assert torch.isfinite(student.grad).all() and torch.isfinite(
        teacher.grad).all()


def test_anti_ce_decreases_when_student_gets_worse():
    target = torch.tensor([0])
    loss = TSTAugmentLoss(teacher_weight=0.0)
    better = loss(torch.tensor([[2.0, 0.0]]), torch.zeros(1, 2), target)
    worse = loss(torch.tensor([[-2.0, 0.0]]), torch.zeros(1, 2), target)
    assert worse['loss_student_anti_ce'] < better['loss_student_anti_ce']


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match='num_classes'):
        KDLoss()(torch.zeros(2, 3), torch.zeros(2, 4), torch.tensor([0, 1]))


def test_invalid_temperature():
    with pytest.raises(ValueError, match='tau'):
        KDLoss(tau=0)
