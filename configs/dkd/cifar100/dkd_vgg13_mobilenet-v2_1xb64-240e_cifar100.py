# DKD VGG13 -> MobileNetV2 (CRD mobile_half) on CIFAR-100.
# mdistiller configs/cifar100/dkd/vgg13_mv2.yaml (BETA 6, LR 0.01).
_base_ = './_base_dkd_cifar100.py'
model = dict(
    teacher={{_base_.vgg13_cifar}},
    student={{_base_.mobilenetv2_cifar}},
    teacher_ckpt='checkpoints/cifar100/vgg13.pth',
    distill_loss=dict(beta=6.0))
optim_wrapper = dict(architecture=dict(optimizer=dict(lr=0.01)))
