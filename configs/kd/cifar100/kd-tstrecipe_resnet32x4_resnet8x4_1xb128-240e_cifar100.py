# KD with TST's recipe, no augmenter: the control that isolates TST's
# augmenter for resnet32x4_resnet8x4 (configs/kd/cifar100/kd_resnet32x4_resnet8x4_1xb64-240e_cifar100.py
# uses CRD's recipe instead). Everything comes from
# configs/tst/cifar100/tst_resnet32x4_resnet8x4_1xb128-240e_cifar100.py (teacher, student, KD loss
# CE + alpha tau^2 KL with tau 4 and the pair's alpha, optimiser, lr,
# weight decay, schedule, epochs) except the augmenter, its loss and
# optimiser and the TST loop (a plain epoch loop instead).
# Batch: the loader yields the same originals per step as TST (see
# train_dataloader.batch_size of the TST config) and KD is computed on
# them alone. TST's step sees those originals plus their augmented
# copies (the paper's "half aug" batch); its loss 1/2 KD(aug) +
# 1/2 KD(orig) has the same scale as KD on the originals, and both runs
# take the same number of steps per epoch.
_base_ = '../../tst/cifar100/tst_resnet32x4_resnet8x4_1xb128-240e_cifar100.py'
model = dict(
    _delete_=True,
    type='mmtst.ClassificationDistiller',
    teacher={{_base_.model.teacher}},
    student={{_base_.model.student}},
    teacher_ckpt={{_base_.model.teacher_ckpt}},
    distill_loss={{_base_.model.distill_loss}})
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture={{_base_.optim_wrapper.architecture}})
param_scheduler = {{_base_.param_scheduler.architecture}}
train_cfg = dict(
    _delete_=True,
    by_epoch=True,
    max_epochs={{_base_.train_cfg.max_epochs}},
    val_interval={{_base_.train_cfg.val_interval}})
