# TST ResNet110 -> ResNet20 on CIFAR-100.
# The paper's setting: batch (half aug) 256, SGD 0.1, wd 1e-4, alpha 0.5, 240
# epochs; the augmenter is never trained.
# The student step still distils on [augmenter(x); x], with the
# augmenter at its initial policy (p = m = 0.5): no phases run.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.resnet110_cifar}},
    student={{_base_.resnet20_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet110.pth',
    distill_loss=dict(alpha=0.5))
train_cfg = dict(phases_at_epochs=[])
