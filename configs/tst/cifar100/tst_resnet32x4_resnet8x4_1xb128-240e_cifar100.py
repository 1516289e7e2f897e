# TST ResNet32x4 -> ResNet8x4 on CIFAR-100.
# The paper's setting: batch (half aug) 256, SGD 0.1 nesterov, wd 1e-4, 240
# epochs; augmenter at 30, 90 x 30 passes.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.resnet32x4_cifar}},
    student={{_base_.resnet8x4_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet32x4.pth')
