# fmnist-limited: FunMatch function matching (Beyer et al., CVPR 2022):
# consistent views (inception crop + flip, drawn per batch by the
# distiller; the loader yields un-augmented images) + mixup, pure KL
# (t = 1, no label CE). The recipe (SGD, lr, schedule, epochs, batch) is
# the set's, not FunMatch's Adam: only views, mixup and loss differ.
_base_ = './_base_kd_fmnist_limited.py'
train_dataloader = dict(dataset=dict(pipeline=[dict(type='PackInputs')]))
model = dict(
    distill_loss=dict(_delete_=True, type='KLDivergence', tau=1.0),
    views=dict(
        type='DistillationViews',
        mode='consistent',
        transform=dict(
            type='RandomResizedCropFlip', size=28, scale=(0.25, 1.0)),
        mixup=dict(type='BatchMixup', alpha=1.0)))
