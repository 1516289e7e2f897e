"""TST's inverted task losses: each one falls as the student gets worse,
and the context manager swaps them into mmdet heads and restores them."""
import pytest
import torch
from mmdet.models.losses import (CrossEntropyLoss, FocalLoss, GIoULoss, L1Loss,
                                 SmoothL1Loss)
from torch import nn

from mmtst.models.losses import (InvertedSoftmaxCrossEntropy, NegatedLoss,
                                 SwappedFocalLoss, SwappedSigmoidCrossEntropy,
                                 invert_loss, inverted_task_losses)
from mmtst.models.losses.inverted_losses import NegatedLogitFocalLoss

LABELS = torch.tensor([0, 2, 3, 1])  # 3 classes; 3 = background


def class_logits(good: bool, channels: int) -> torch.Tensor:
    """Logits that favour the true class (good) or avoid it (worse)."""
    logits = torch.full((4, channels), -2.0)
    for i, label in enumerate(LABELS.tolist()):
        if label < channels:
            logits[i, label] = 3.0 if good else -6.0
    return logits


def test_softmax_ce_inverted_falls_when_the_student_is_wrong():
    loss = invert_loss(CrossEntropyLoss(use_sigmoid=False))
    assert isinstance(loss, InvertedSoftmaxCrossEntropy)
    good, worse = class_logits(True, 4), class_logits(False, 4)
    weights = torch.ones(4)
    assert loss(
        worse, LABELS, weights, avg_factor=4) < loss(
            good, LABELS, weights, avg_factor=4)
    # bounded like the classification anti-CE: -log(1e-8) at most
    sure = torch.tensor([[100.0, -100.0]])
    assert loss(sure, torch.tensor([0])) <= 18.43


def test_sigmoid_ce_swapped_for_index_and_soft_targets():
    loss = invert_loss(CrossEntropyLoss(use_sigmoid=True))
    assert isinstance(loss, SwappedSigmoidCrossEntropy)
    labels = torch.tensor([0, 1, 0, 1])  # RPN: 0 = object, 1 = background
    good = torch.tensor([[4.0], [-4.0], [4.0], [-4.0]])
    assert loss(-good, labels, torch.ones(4)) < loss(good, labels,
                                                     torch.ones(4))
    # centerness-style continuous targets of the prediction's shape
    target = torch.tensor([0.9, 0.1, 0.8])
    good_c = torch.tensor([2.0, -2.0, 1.5])
    assert loss(
        -good_c, target, avg_factor=3) < loss(
            good_c, target, avg_factor=3)


def test_focal_swapped_falls_when_the_student_is_wrong():
    """``inverted_reduction='task'`` (mmtst's earlier form)."""
    original = FocalLoss(use_sigmoid=True, gamma=2.0, alpha=0.25)
    loss = invert_loss(original, 'task')
    assert isinstance(loss, SwappedFocalLoss) and loss.gamma == 2.0
    good, worse = class_logits(True, 3), class_logits(False, 3)
    # a worse student: the object missed and background fired on
    worse[3] = 3.0
    weights = torch.ones(4)
    assert loss(
        worse, LABELS, weights, avg_factor=3) < loss(
            good, LABELS, weights, avg_factor=3)
    # swapping the labels of a one-hot target is the focal loss of 1 - t
    onehot = torch.nn.functional.one_hot(LABELS, 4)[:, :3].float()
    assert torch.allclose(
        loss(good, LABELS, weights), original(good, 1 - onehot, weights))


@pytest.mark.parametrize('cls', [L1Loss, SmoothL1Loss, GIoULoss])
def test_regression_losses_are_negated(cls):
    loss = invert_loss(cls())
    assert isinstance(loss, NegatedLoss)
    target = torch.tensor([[10.0, 10.0, 30.0, 40.0]])
    close = torch.tensor([[11.0, 9.0, 31.0, 38.0]])
    far = torch.tensor([[20.0, 25.0, 50.0, 60.0]])
    assert loss(far, target) < loss(close, target) < 0


class Head(nn.Module):

    def __init__(self):
        super().__init__()
        self.loss_cls = FocalLoss()
        self.loss_bbox = L1Loss()
        self.conv = nn.Conv2d(1, 1, 1)


def test_context_swaps_and_restores_even_on_error():
    model = nn.Sequential(Head(), Head())
    originals = [m.loss_cls for m in model] + [m.loss_bbox for m in model]
    with inverted_task_losses(model):
        assert all(
            isinstance(m.loss_cls, NegatedLogitFocalLoss) for m in model)
        assert all(isinstance(m.loss_bbox, NegatedLoss) for m in model)
    with inverted_task_losses(model, 'task'):
        assert all(isinstance(m.loss_cls, SwappedFocalLoss) for m in model)
        assert all(isinstance(m.loss_bbox, NegatedLoss) for m in model)
    assert [m.loss_cls for m in model] + [m.loss_bbox
                                          for m in model] == originals
    with pytest.raises(RuntimeError):
        with inverted_task_losses(model):
            raise RuntimeError('boom')
    assert model[0].loss_cls is originals[0]
    assert set(model.state_dict()) == {
        '0.conv.weight', '0.conv.bias', '1.conv.weight', '1.conv.bias'
    }


def test_unknown_loss_names_itself():

    class Odd(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match='Odd'):
        invert_loss(Odd())
    with pytest.raises(NotImplementedError, match='mask'):
        invert_loss(CrossEntropyLoss(use_mask=True))
