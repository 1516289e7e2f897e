# TST VGG13 -> VGG8 on CIFAR-100.
# The paper's setting: batch (half aug) 256, SGD 0.1, wd 1e-4, 240 epochs;
# augmenter at 32, 62, ..., 212 x 5 passes.
_base_ = './_base_tst_cifar100.py'
model = dict(
    teacher={{_base_.vgg13_cifar}},
    student={{_base_.vgg8_cifar}},
    teacher_ckpt='checkpoints/cifar100/vgg13.pth')
train_cfg = dict(
    phases_at_epochs=[32, 62, 92, 122, 152, 182, 212], passes_per_phase=5)
