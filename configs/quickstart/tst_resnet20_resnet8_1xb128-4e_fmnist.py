# Quick start: TST (Shao et al., IJCAI 2023) ResNet-20 -> ResNet-8.
# The student step distils on [augmented; original] with KD (1/2 + 1/2);
# augmenter phases run before student epochs 0 and 2 (one pass each), with
# the op nets mmtst fitted on Fashion-MNIST (the paper's neural backend).
_base_ = './kd_resnet20_resnet8_1xb128-4e_fmnist.py'
model = dict(
    augmenter=dict(
        type='LearnableAugmentPolicy',
        backend='neural',
        solve_number=4,
        temperature=0.05,
        cutout_size=8),
    augmenter_loss=dict(
        type='TSTAugmentLoss', teacher_weight=1.0, student_weight=1.0))
optim_wrapper = dict(
    augmenter=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
# Schedules apply to the student's optimiser only: the augmenter's lr is
# reset at each phase and decayed by ALRS (mmtst.engine.optimizers.ALRS).
param_scheduler = dict(
    _delete_=True, architecture={{_base_.param_scheduler}}, augmenter=[])
train_cfg = dict(
    _delete_=True,
    type='mmtst.TSTEpochBasedTrainLoop',
    max_epochs={{_base_.max_epochs}},
    val_interval=1,
    phases_at_epochs=[0, 2],
    passes_per_phase=1)
