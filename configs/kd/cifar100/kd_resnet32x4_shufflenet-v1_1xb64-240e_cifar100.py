# KD ResNet32x4 -> ShuffleNetV1 on CIFAR-100 (CRD's KD recipe).
_base_ = './_base_kd_cifar100.py'
model = dict(
    teacher={{_base_.resnet32x4_cifar}},
    student={{_base_.shufflev1_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet32x4.pth')
# CRD trains MobileNetV2 / ShuffleNet students with lr 0.01
# (RepDistiller train_student.py).
optim_wrapper = dict(architecture=dict(optimizer=dict(lr=0.01)))
