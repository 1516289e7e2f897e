# DKD ResNet34 -> ResNet18 on ImageNet-1k (mdistiller's settings, see the base).
# Teacher: mmpretrain's ResNet-34 (73.62 top-1; DKD used torchvision's,
# 73.31), a local file:
#   https://download.openmmlab.com/mmclassification/v0/resnet/resnet34_8xb32_in1k_20210831-f257d4e6.pth
# saved as checkpoints/imagenet/resnet34_8xb32_in1k.pth.
_base_ = './_base_dkd_in1k.py'
model = dict(
    teacher='mmpretrain::resnet/resnet34_8xb32_in1k.py',
    student='mmpretrain::resnet/resnet18_8xb32_in1k.py',
    teacher_ckpt='checkpoints/imagenet/resnet34_8xb32_in1k.pth')
