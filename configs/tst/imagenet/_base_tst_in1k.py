# TST ("Teaching What You Should Teach", Shao et al., IJCAI 2023) on
# ImageNet-1k: what the pairs share, with the paper's ResNet34 -> ResNet18
# setting. Batch 512 = 8 GPUs x (32 originals + their 32 augmented copies);
# SGD lr 0.3, 100 epochs, lr x0.1 after 40 and 70 (the paper's third step,
# at 100, is the end of training); KD with tau 1, alpha 1; augmenter phases
# after 10 and 25 epochs, 5 passes each. Data: mmpretrain's ImageNet
# pipeline (RandomResizedCrop 224 + flip). Momentum 0.9, nesterov and
# weight decay 1e-4 are not in the paper's ImageNet row: they are the CIFAR
# rows' optimiser with ImageNet's usual weight decay (unverified).
# The paper trains with mixed precision: add --amp to tools/train.py.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    '../../_base_/default_runtime.py',
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
# Teacher and student are mmpretrain's own model configs (named by
# 'mmpretrain::' path in each pair file); each normalises its own input with
# the top-level data_preprocessor of its config. The distiller itself keeps
# raw 0..255 pixels (the augmenter works on them), so the data_preprocessor
# that mmpretrain's dataset base sets at the top level, which the Runner
# would hand to the distiller, is removed.
data_preprocessor = None
train_dataloader = dict(batch_size=32)  # per GPU, x 8 GPUs

model = dict(
    type='mmtst.ClassificationDistiller',
    distill_loss=dict(type='KDLoss', tau=1.0, alpha=1.0),
    tst_mode='double',
    aug_loss_weight=0.5,
    augmenter=dict(
        type='LearnableAugmentPolicy',
        # Images reach the augmenter as loaded, BGR: ops that read colour
        # channels asymmetrically (Color, Contrast: grey weights) act on
        # swapped channels. The op nets are mmtst's shipped ones unless
        # op_net_ckpt names nets fitted on ImageNet (tools/fit_op_nets.py).
        backend='neural',
        solve_number=4,
        temperature=0.05,
        # The paper's ImageNet patch: 224, i.e. the whole crop.
        cutout_size=224),
    augmenter_loss=dict(
        type='TSTAugmentLoss', teacher_weight=1.0, student_weight=1.0))

optim_wrapper = dict(
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(
            type='SGD', lr=0.3, momentum=0.9, weight_decay=1e-4,
            nesterov=True)),
    augmenter=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
param_scheduler = dict(
    architecture=[
        dict(
            type='MultiStepLR', by_epoch=True, milestones=[40, 70], gamma=0.1),
    ],
    augmenter=[])
train_cfg = dict(
    type='mmtst.TSTEpochBasedTrainLoop',
    max_epochs=100,
    val_interval=1,
    phases_at_epochs=[10, 25],
    passes_per_phase=5)
val_cfg = dict()
test_cfg = dict()
# 8 x 32 originals per step
auto_scale_lr = dict(base_batch_size=256)
