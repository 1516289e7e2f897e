# FunMatch on the paper's small datasets (Beyer et al., CVPR 2022, Sec. 3):
# batch 512, 1500 warm-up steps, student at 128 px, very long schedules.
# Teacher: the paper fine-tunes BiT-M-R152x2 on each dataset; mmpretrain
# has no BiT, so a ResNet-152 (mmpretrain) fine-tuned on the dataset stands
# in for it: give its checkpoint as teacher_ckpt.
_base_ = ['../../_base_/default_runtime.py']
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')

dataset_type = 'Flowers102'
data_root = 'data/flowers102'
num_classes = 102
loader_pipeline = [
    dict(type='mmtst.LoadImageOrReport'),
    dict(type='Resize', scale=(256, 256)),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='mmtst.LoadImageOrReport'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,  # x 8 GPUs = the paper's 512
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='trainval',
        pipeline=loader_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='mmtst.TeacherStudentAgreement'),
]
test_evaluator = val_evaluator

model = dict(
    type='mmtst.ClassificationDistiller',
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(
            type='ResNet',
            depth=152,
            num_stages=4,
            out_indices=(3, ),
            style='pytorch'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead', num_classes=num_classes, in_channels=2048)),
    student=dict(
        type='ImageClassifier',
        backbone=dict(
            type='ResNet',
            depth=50,
            num_stages=4,
            out_indices=(3, ),
            style='pytorch'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead', num_classes=num_classes, in_channels=2048)),
    teacher_ckpt='checkpoints/flowers102/resnet152_teacher.pth',
    distill_loss=dict(type='KLDivergence', tau=1.0),
    views=dict(
        type='DistillationViews',
        mode='consistent',
        transform=dict(type='RandomResizedCropFlip', size=224),
        mixup=dict(type='BatchMixup', alpha=1.0)),
    teacher_input_size=(224, 224),
    student_input_size=(128, 128),
    record_teacher_predictions=True)
# both classifiers need ImageNet normalisation
model['teacher']['data_preprocessor'] = dict(
    type='ClsDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
model['student']['data_preprocessor'] = model['teacher']['data_preprocessor']

max_epochs = 10000
optim_wrapper = dict(
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-5),
        clip_grad=dict(max_norm=1.0)))
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
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=100)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
