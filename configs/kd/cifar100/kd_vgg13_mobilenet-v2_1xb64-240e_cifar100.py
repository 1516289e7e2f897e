# KD VGG13 -> MobileNetV2 (CRD mobile_half) on CIFAR-100 (CRD's KD recipe).
_base_ = './_base_kd_cifar100.py'
model = dict(
    teacher={{_base_.vgg13_cifar}},
    student={{_base_.mobilenetv2_cifar}},
    teacher_ckpt='checkpoints/cifar100/vgg13.pth')
# CRD trains MobileNetV2 / ShuffleNet students with lr 0.01
# (RepDistiller train_student.py).
optim_wrapper = dict(architecture=dict(optimizer=dict(lr=0.01)))
