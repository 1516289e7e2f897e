# The distillers of the fmnist-limited set: the recipe of
# _base_fmnist_limited.py with the quick start's KD loss (CE + KL, tau 4,
# alpha 1) from the ResNet-20 teacher trained on all 60k images
# (run_benchmark.py passes model.teacher_ckpt).
_base_ = './_base_fmnist_limited.py'
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
model = dict(
    _delete_=True,
    type='mmtst.ClassificationDistiller',
    teacher={{_base_.fmnist_teacher}},
    student={{_base_.fmnist_student}},
    teacher_ckpt='work_dirs/benchmark/fmnist-limited/'
    'teacher_resnet20_fmnist_full/teacher.pth',
    distill_loss=dict(type='KDLoss', tau=4.0, alpha=1.0))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(optimizer={{_base_.optimizer}}))
