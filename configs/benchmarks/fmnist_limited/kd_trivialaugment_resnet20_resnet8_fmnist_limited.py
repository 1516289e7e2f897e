# fmnist-limited: KD + TrivialAugment (Mueller & Hutter, 2021): one op per
# image with a magnitude drawn uniformly. mmpretrain has no TrivialAugment
# transform; its RandAugment with num_policies=1 and magnitude_std='inf'
# (magnitude uniform in [0, total_level]) is the same draw over timm's
# "increasing" op pool (run on the grey images through mmtst.GreyAsRGB).
_base_ = './_base_kd_fmnist_limited.py'
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(
            type='mmtst.GreyAsRGB',
            transform=dict(
                type='RandAugment',
                policies='timm_increasing',
                num_policies=1,
                total_level=10,
                magnitude_level=10,
                magnitude_std='inf',
                hparams=dict(pad_val=0))),
        dict(type='RandomCrop', crop_size=28, padding=2),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]))
