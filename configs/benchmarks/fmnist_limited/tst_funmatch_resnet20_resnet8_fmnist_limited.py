# fmnist-limited: TST + function matching: TST's learned augmenter (as in
# tst_resnet20_resnet8_fmnist_limited.py) on FunMatch's consistent views
# with mixup of both halves, and FunMatch's pure KL (t = 1) as the student
# loss. The augmenter's objective still uses the (unmixed) labels.
_base_ = './_base_tst_fmnist_limited.py'
train_dataloader = dict(dataset=dict(pipeline=[dict(type='PackInputs')]))
model = dict(
    distill_loss=dict(_delete_=True, type='KLDivergence', tau=1.0),
    views=dict(
        type='DistillationViews',
        mode='consistent',
        transform=dict(
            type='RandomResizedCropFlip', size=28, scale=(0.25, 1.0)),
        mixup=dict(type='BatchMixup', alpha=1.0)))
