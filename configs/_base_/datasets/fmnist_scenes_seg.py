# Fashion-MNIST scenes in segmentation form (mmtst/datasets/scenes.py):
# 96x96 px, background 0 + 10 Fashion-MNIST classes (k -> k + 1). The
# splits are generated on first use (or with
# tools/dataset_converters/make_scenes.py --semantic).
dataset_type = 'mmtst.FashionMNISTSceneSegmentation'
data_root = 'data/fmnist_scenes/'
train_pipeline = [
    dict(type='mmtst.LoadImageOrReport'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='mmtst.LoadImageOrReport'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='train', seg_map_path='semantic/train'),
        generate=dict(num_images=2000, seed=0),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='semantic/val'),
        generate=dict(num_images=200, seed=0),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
