# TST on the fmnist-limited recipe: the paper's student step (doubled batch
# [augmented; original], 1/2 KD + 1/2 KD) and augmenter (neural ops, 4 of 14
# per batch, SGD lr 0.01 re-created per phase, ALRS). The phases keep the
# paper's proportions: after 1/8 and 3/8 of the run, 0.25 augmenter passes
# per student epoch in all (paper: 30, 90 of 240 epochs x 30 passes).
# The batch of ORIGINAL images per step is the recipe's 128 (+ 128
# augmented copies), as in the paper's "128 + 128".
_base_ = './_base_kd_fmnist_limited.py'
model = dict(
    augmenter=dict(
        type='LearnableAugmentPolicy',
        backend='neural',
        solve_number=4,
        temperature=0.05,
        # the authors' Cutout side is the CIFAR image side (32 of 32 px)
        cutout_size=28),
    augmenter_loss=dict(
        type='TSTAugmentLoss', teacher_weight=1.0, student_weight=1.0))
optim_wrapper = dict(
    augmenter=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
param_scheduler = dict(
    _delete_=True, architecture={{_base_.param_scheduler}}, augmenter=[])
train_cfg = dict(
    _delete_=True,
    type='mmtst.TSTEpochBasedTrainLoop',
    max_epochs={{_base_.max_epochs}},
    val_interval={{_base_.val_interval}},
    phases_at_epochs={{_base_.tst_augmenter_epochs}},
    passes_per_phase={{_base_.tst_augmenter_passes}})
