# KD ResNet32x4 -> ResNet8x4 on CIFAR-100 (CRD's KD recipe).
_base_ = './_base_kd_cifar100.py'
model = dict(
    teacher={{_base_.resnet32x4_cifar}},
    student={{_base_.resnet8x4_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet32x4.pth')
