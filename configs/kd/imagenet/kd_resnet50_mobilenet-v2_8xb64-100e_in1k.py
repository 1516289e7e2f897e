# KD ResNet50 -> MobileNetV2 on ImageNet-1k: a stand-in for the ResNet50 ->
# MobileNetV1 pair (mmpretrain 1.2 has no MobileNetV1; see
# configs/tst/imagenet/README.md). mdistiller has this exact pair too:
# configs/imagenet/r50_mv2/kd.yaml (same settings as the base).
# Teacher: mmpretrain's ResNet-50 (76.55 top-1), a local file:
#   https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth
# saved as checkpoints/imagenet/resnet50_8xb32_in1k.pth.
_base_ = './_base_kd_in1k.py'
model = dict(
    teacher='mmpretrain::resnet/resnet50_8xb32_in1k.py',
    student='mmpretrain::mobilenet_v2/mobilenet-v2_8xb32_in1k.py',
    teacher_ckpt='checkpoints/imagenet/resnet50_8xb32_in1k.pth')
