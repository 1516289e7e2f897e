# CRD's CIFAR-100 schedule (RepDistiller train_teacher.py / train_student.py
# defaults, also mdistiller's): SGD momentum 0.9, lr 0.05, weight decay 5e-4,
# batch 64, 240 epochs, lr x0.1 after epochs 150, 180 and 210.
max_epochs = 240
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=True,
        milestones=[150, 180, 210],
        gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
