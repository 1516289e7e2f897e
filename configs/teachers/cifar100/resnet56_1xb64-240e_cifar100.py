# The CIFAR-100 resnet56 teacher trained from scratch with CRD's recipe
# (RepDistiller train_teacher.py: batch 64, SGD lr 0.05, momentum 0.9,
# wd 5e-4, 240 epochs, lr x0.1 at 150/180/210); CRD reports 72.34 top-1.
# Instead of training it, CRD's released resnet56 teacher
# (RepDistiller scripts/fetch_pretrained_teachers.sh) can be converted:
#   python tools/model_converters/crd_to_mmpretrain.py \
#       save/models/resnet56_vanilla/ckpt_epoch_240.pth \
#       checkpoints/cifar100/resnet56.pth \
#       --config configs/teachers/cifar100/resnet56_1xb64-240e_cifar100.py
_base_ = [
    '../../_base_/models/cifar100_classifiers.py',
    '../../_base_/datasets/cifar100.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
]
model = {{_base_.resnet56_cifar}}
