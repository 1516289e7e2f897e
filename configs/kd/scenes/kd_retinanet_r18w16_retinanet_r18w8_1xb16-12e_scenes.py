# Logit KD baseline of the scenes mini-benchmark: the TST pair's distiller
# (KL, tau 1, on the classification maps) without the augmenter, with the
# plain 12-epoch schedule (no augmenter phases).
_base_ = [
    '../../_base_/models/scenes_detectors.py',
    '../../_base_/datasets/fmnist_scenes.py',
    '../../_base_/schedules/scenes_12e.py', '../../_base_/det_runtime.py'
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
model = dict(
    type='mmtst.DetectionDistiller',
    teacher={{_base_.retinanet_teacher}},
    student={{_base_.retinanet_student}},
    teacher_ckpt='work_dirs/retinanet_r18w16_1xb16-12e_scenes/epoch_12.pth',
    kl_weight=1.0,
    tau=1.0)
optim_wrapper = dict(
    _delete_=True,
    constructor='mmtst.DistillerOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                       weight_decay=0.0001)))
