# TST ("Teaching What You Should Teach", Shao et al., IJCAI 2023) on
# CIFAR-100: what every pair shares. A pair's file names the teacher, the
# student, the teacher checkpoint and its overrides of the paper's table
# (lr, weight decay, alpha, augmenter phases; see configs/tst/README.md).
#
# Student step (paper Sec. 3.4): x_aug = augmenter(x) without gradient, then
# teacher and student see [x_aug; x]; loss = 1/2 KD(aug) + 1/2 KD(orig) with
# KD = CE + alpha * tau^2 * KL, tau 4. The paper's "batch (half aug) 256" is
# 128 originals + their 128 augmented copies per step: the loader yields 128
# (per GPU; on N GPUs set train_dataloader.batch_size=128/N to keep the
# paper's total, or pass --auto-scale-lr).
# Augmenter phases (stage II): after the student has completed each epoch
# count in `phases_at_epochs`, `passes_per_phase` passes over the training set
# update only the augmenter (SGD lr 0.01, momentum 0.9, re-created at each
# phase, ALRS decay after each pass).
# The paper trains with mixed precision: add --amp to tools/train.py
# (kept out of the config so that it also builds on CPU).
_base_ = [
    '../../_base_/models/cifar100_classifiers.py',
    '../../_base_/datasets/cifar100.py',
    '../../_base_/schedules/cifar100_240e.py',
    '../../_base_/default_runtime.py',
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
train_dataloader = dict(batch_size=128)

model = dict(
    type='mmtst.ClassificationDistiller',
    distill_loss=dict(type='KDLoss', tau=4.0, alpha=1.0),
    tst_mode='double',
    aug_loss_weight=0.5,
    augmenter=dict(
        type='LearnableAugmentPolicy',
        # The paper's "priori bias" ops: frozen nets imitating AutoAugment's
        # ops. By default the nets mmtst ships (fitted on tinted
        # Fashion-MNIST); to fit them on CIFAR-100 as the paper did (stage I),
        # run tools/fit_op_nets.py --data folder:IMAGES --out NETS.pth and set
        # op_net_ckpt=NETS.pth here. backend='analytic' needs no fitted nets.
        backend='neural',
        solve_number=4,
        temperature=0.05,
        cutout_size=32),  # the paper's CIFAR patch (the whole 32x32 image)
    augmenter_loss=dict(
        type='TSTAugmentLoss', teacher_weight=1.0, student_weight=1.0))

optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(
            type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4,
            nesterov=True)),
    augmenter=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
# lr x0.1 after 150/180/210 epochs for the student only; the augmenter's lr
# follows ALRS within each phase.
param_scheduler = dict(
    _delete_=True,
    architecture=[
        dict(
            type='MultiStepLR',
            by_epoch=True,
            milestones=[150, 180, 210],
            gamma=0.1),
    ],
    augmenter=[])
train_cfg = dict(
    _delete_=True,
    type='mmtst.TSTEpochBasedTrainLoop',
    max_epochs=240,
    val_interval=1,
    phases_at_epochs=[30, 90],
    passes_per_phase=30)
auto_scale_lr = dict(base_batch_size=128)
