# TST ResNet110 -> ResNet32 on CIFAR-100.
# The paper's setting: batch (half aug) 256, SGD 0.1, wd 1e-4, alpha 0.5, 240
# epochs; augmenter at 30, 90 x 30 passes.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.resnet110_cifar}},
    student={{_base_.resnet32_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet110.pth',
    distill_loss=dict(alpha=0.5))
