# CIFAR-100 (32x32 RGB, 100 classes) with the CRD / DKD / TST augmentation:
# RandomCrop(32, padding 4) + horizontal flip. mmpretrain's CIFAR100 reads
# the python pickles under data_root/cifar-100-python (downloading them on
# first use when `download` is left True and the machine is online).
dataset_type = 'CIFAR100'
data_root = 'data/cifar100'

train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    # Per GPU. 64 on one GPU is CRD's / DKD's batch (teachers, KD, DKD);
    # the TST configs set their own. With N GPUs the total is N x this.
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    # split='test' selects the 10k test images; test_mode only marks the
    # dataset as an evaluation set.
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        test_mode=True,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
