# FunMatch (Beyer et al., CVPR 2022) on Fashion-MNIST, ResNet-20 -> ResNet-8.
# Function matching = consistent teaching + mixup, pure KL (t = 1), Adam,
# warm-up + cosine, grad-norm clip 1.0. The loader yields un-augmented
# images; the distiller draws the views (inception crop + flip) per batch.
_base_ = [
    '../../_base_/models/fmnist_classifiers.py',
    '../../_base_/datasets/fashion_mnist.py',
    '../../_base_/schedules/fmnist_cosine_4e.py',
    '../../_base_/default_runtime.py',
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
train_dataloader = dict(dataset=dict(pipeline=[dict(type='PackInputs')]))

model = dict(
    type='mmtst.ClassificationDistiller',
    teacher={{_base_.fmnist_teacher}},
    student={{_base_.fmnist_student}},
    teacher_ckpt='work_dirs/quickstart/fmnist_teacher_resnet20.pth',
    distill_loss=dict(type='KLDivergence', tau=1.0),
    views=dict(
        type='DistillationViews',
        mode='consistent',
        # 28 px garments: a milder minimum crop area than ImageNet's 0.08
        transform=dict(
            type='RandomResizedCropFlip', size=28, scale=(0.25, 1.0)),
        mixup=dict(type='BatchMixup', alpha=1.0)),
    record_teacher_predictions=True)

optim_wrapper = dict(
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='Adam', lr=3e-3, weight_decay=1e-5),
        clip_grad=dict(max_norm=1.0)))
# the 4-epoch warm-up + cosine schedule (fmnist_cosine_4e.py), its warm-up
# from 1% of the lr instead of 10%
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=0.01),
    _base_.param_scheduler[1],
]
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='mmtst.TeacherStudentAgreement'),
]
test_evaluator = val_evaluator
