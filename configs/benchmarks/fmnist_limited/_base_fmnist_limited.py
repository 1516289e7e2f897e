# Data-limited, patient distillation on Fashion-MNIST (the benchmark set
# `fmnist-limited` in benchmarks/sets.yaml). What every run of the set
# shares, written once: the data (a fixed class-balanced subset of the
# training images, the same for every run and seed), the recipe (optimiser,
# lr, schedule, epochs, batch of original images per step) and the runtime.
# A method's file only adds its model / loss / augmentation.
#
# Training data: `per_class` images of each of the 10 classes, drawn with
# `subset_seed` (independent of randomness.seed). Evaluation: the 10k test
# images. Recipe: the quick start's (SGD lr 0.1 nesterov, momentum 0.9,
# wd 5e-4, batch 128) with a linear warm-up and a cosine decay stretched
# over `max_epochs`.
_base_ = [
    '../../_base_/models/fmnist_classifiers.py',
    '../../_base_/datasets/fashion_mnist.py',
    '../../_base_/default_runtime.py',
]
per_class = 100  # 1,000 training images: 8 steps of 128 per epoch
subset_seed = 0
# 40 epochs = 320 steps: what fits 5 seeds x 10 methods in about 2 hours
# on 2 cores (measured step costs in benchmarks/sets.yaml's description of
# the set); the set `fmnist-limited-n500` runs the same configs on 500
# images per class for 8 epochs (the same 320 steps).
max_epochs = 40
val_interval = 10
warmup_epochs = 2
# TST's augmenter phases scaled from the paper's (after 30 and 90 of 240
# epochs, i.e. at 1/8 and 3/8 of the run; 30 passes each = 0.25 passes
# per student epoch): see _base_tst_fmnist_limited.py.
tst_augmenter_epochs = [5, 15]
tst_augmenter_passes = 5

# Loading 28x28 images is cheap: no loader workers, so that two runs of
# one thread each share the two cores without extra processes.
train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(per_class=per_class, subset_seed=subset_seed))
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader

model = {{_base_.fmnist_student}}
optimizer = dict(
    type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
optim_wrapper = dict(optimizer=optimizer)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(
    by_epoch=True, max_epochs=max_epochs, val_interval=val_interval)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=8),
    # resumable at every validation; the last checkpoint only
    checkpoint=dict(interval=val_interval, max_keep_ckpts=1, save_last=True))
