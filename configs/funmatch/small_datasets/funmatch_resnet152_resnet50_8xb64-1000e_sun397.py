# Function matching on SUN397, ResNet-152 teacher -> ResNet-50 student at 128 px,
# 1000 epochs ("patient": longer keeps helping on small data).
_base_ = './_base_funmatch_small.py'
dataset_type = 'SUN397'
data_root = 'data/SUN397'
num_classes = 397
max_epochs = 1000
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
test_dataloader = val_dataloader
model = dict(
    teacher=dict(head=dict(num_classes=num_classes)),
    student=dict(head=dict(num_classes=num_classes)),
    teacher_ckpt='checkpoints/sun397/resnet152_teacher.pth')
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1500),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
