# The fmnist-limited set's teacher: ResNet-20 on ALL 60k Fashion-MNIST
# training images (the students see a small subset), the quick start's
# recipe and length (4 epochs; 92.25% top-1 in the quick start), without
# loader workers (one core per run when two runs share the machine).
_base_ = '../../quickstart/fmnist_teacher_resnet20.py'
max_epochs = 4
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
