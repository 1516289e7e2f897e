# DKD ResNet110 -> ResNet20 on CIFAR-100.
# mdistiller has no config for this pair (the DKD paper does not report
# it): BETA 2 is taken from its other ResNet-110/56 -> ResNet pairs
# (res110_res32.yaml, res56_res20.yaml). Unverified.
_base_ = './_base_dkd_cifar100.py'
model = dict(
    teacher={{_base_.resnet110_cifar}},
    student={{_base_.resnet20_cifar}},
    teacher_ckpt='checkpoints/cifar100/resnet110.pth',
    distill_loss=dict(beta=2.0))
