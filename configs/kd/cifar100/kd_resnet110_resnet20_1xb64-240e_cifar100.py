# KD ResNet110 -> ResNet20 on CIFAR-100 (CRD's KD recipe).
_base_ = './_base_kd_cifar100.py'
model = dict(
    teacher={{_base_.resnet110_cifar}},
    student={{_base_.resnet20_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet110.pth')
