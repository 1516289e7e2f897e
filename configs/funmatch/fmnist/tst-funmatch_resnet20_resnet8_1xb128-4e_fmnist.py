# The two axes combined: TST's learned augmenter on top of FunMatch's
# consistent views, with mixup on both halves of the student's batch.
_base_ = './_base_funmatch_fmnist.py'
model = dict(
    distill_loss=dict(_delete_=True, type='KDLoss', tau=4.0, alpha=1.0),
    augmenter=dict(
        type='LearnableAugmentPolicy', backend='neural', cutout_size=8))
optim_wrapper = dict(
    augmenter=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
param_scheduler = dict(
    _delete_=True, architecture={{_base_.param_scheduler}}, augmenter=[])
train_cfg = dict(
    _delete_=True,
    type='mmtst.TSTEpochBasedTrainLoop',
    max_epochs={{_base_.max_epochs}},
    val_interval=1,
    phases_at_epochs=[0, 2],
    passes_per_phase=1)
