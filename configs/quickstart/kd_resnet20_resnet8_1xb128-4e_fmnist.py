# Quick start: vanilla KD (Hinton et al.) ResNet-20 -> ResNet-8.
# The teacher's weights come from step 1 (tools/quickstart.py writes them;
# or train configs/quickstart/resnet20_1xb128-4e_fmnist.py and point
# model.teacher_ckpt at its checkpoint).
_base_ = [
    '../_base_/models/fmnist_classifiers.py',
    '../_base_/datasets/fashion_mnist.py',
    '../_base_/schedules/fmnist_short.py',
    '../_base_/default_runtime.py',
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
model = dict(
    type='mmtst.ClassificationDistiller',
    teacher={{_base_.fmnist_teacher}},
    student={{_base_.fmnist_student}},
    teacher_ckpt='work_dirs/quickstart/fmnist_teacher_resnet20.pth',
    distill_loss=dict(type='KDLoss', tau=4.0, alpha=1.0))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(
            type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4,
            nesterov=True)))
