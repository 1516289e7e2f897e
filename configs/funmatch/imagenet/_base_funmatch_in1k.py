# FunMatch on ImageNet (Beyer et al., CVPR 2022, Sec. 4): function matching
# with a 384 px teacher and a 224 px student looking at the same view.
#
# Teacher: the paper's BiT-M-R152x2 (84.3% at 384 px) is not in mmpretrain;
# the closest model it has is ConvNeXt-Base pre-trained on ImageNet-21k and
# fine-tuned at 384 px, used here in its place. Download its weights from
# the mmpretrain model zoo into checkpoints/imagenet/ (teacher_ckpt below).
_base_ = ['../../_base_/default_runtime.py']
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')

data_root = 'data/imagenet'
# The loader only decodes and resizes (no random augmentation): the views
# (inception crop + flip, shared by teacher and student) are drawn per batch
# by the distiller.
loader_pipeline = [
    dict(type='mmtst.LoadImageOrReport'),
    dict(type='Resize', scale=(448, 448)),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='mmtst.LoadImageOrReport'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,  # x 64 GPUs = the paper's 4096
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        type='ImageNet',
        data_root=data_root,
        split='train',
        pipeline=loader_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        type='ImageNet',
        data_root=data_root,
        split='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='mmtst.TeacherStudentAgreement'),
]
test_evaluator = val_evaluator

model = dict(
    type='mmtst.ClassificationDistiller',
    teacher='mmpretrain::convnext/convnext-base_32xb128_in1k-384px.py',
    student='mmpretrain::resnet/resnet50_8xb32_in1k.py',
    teacher_ckpt=
    'checkpoints/imagenet/convnext-base_in21k-pre-3rdparty_in1k-384px.pth',
    distill_loss=dict(type='KLDivergence', tau=1.0),
    views=dict(
        type='DistillationViews',
        mode='consistent',
        transform=dict(type='RandomResizedCropFlip', size=384),
        mixup=dict(type='BatchMixup', alpha=1.0)),
    teacher_input_size=(384, 384),
    student_input_size=(224, 224),
    record_teacher_predictions=True)

# Adam lr 0.03, weight decay 3e-4, grad-norm clip 1.0, 5000 warm-up steps
# then cosine (the paper's ImageNet recipe).
max_epochs = 1200
optim_wrapper = dict(
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='Adam', lr=0.03, weight_decay=3e-4),
        clip_grad=dict(max_norm=1.0)))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=5000),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=4096)
