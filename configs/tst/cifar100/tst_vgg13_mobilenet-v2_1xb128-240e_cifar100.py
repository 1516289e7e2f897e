# TST VGG13 -> MobileNetV2 (CRD mobile_half) on CIFAR-100.
# The paper's setting: batch (half aug) 256, SGD 0.1, wd 1e-4, 240 epochs;
# augmenter at 30, 90 x 30 passes.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.vgg13_cifar}},
    student={{_base_.mobilenetv2_cifar}},
    teacher_ckpt='checkpoints/cifar100/vgg13.pth')
