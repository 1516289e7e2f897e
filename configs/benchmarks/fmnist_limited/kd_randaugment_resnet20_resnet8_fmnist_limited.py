# fmnist-limited: KD + mmpretrain's RandAugment (2 ops per image, magnitude
# 9 of 10 with std 0.5, timm's "increasing" op pool), the augmentation a
# user would try first. Applied in the loader before crop + flip, so
# teacher and student see the same augmented image (as in TST). Fill value
# 0: Fashion-MNIST's background is black. mmtst.GreyAsRGB runs it on the
# grey images (its Color and Contrast ops need 3 channels).
_base_ = './_base_kd_fmnist_limited.py'
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(
            type='mmtst.GreyAsRGB',
            transform=dict(
                type='RandAugment',
                policies='timm_increasing',
                num_policies=2,
                total_level=10,
                magnitude_level=9,
                magnitude_std=0.5,
                hparams=dict(pad_val=0))),
        dict(type='RandomCrop', crop_size=28, padding=2),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]))
