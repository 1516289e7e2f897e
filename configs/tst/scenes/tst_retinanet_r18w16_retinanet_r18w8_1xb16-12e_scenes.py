# TST (Shao et al., IJCAI 2023) on the Fashion-MNIST scenes: RetinaNet
# ResNet-18 (1/4 width) -> RetinaNet ResNet-18 (1/8 width), KL (tau 1) on
# the classification maps. First train the teacher:
#   python tools/train.py configs/teachers/scenes/retinanet_r18w16_1xb16-12e_scenes.py
_base_ = [
    '../../_base_/models/scenes_detectors.py',
    '../../_base_/datasets/fmnist_scenes.py',
    '../../_base_/schedules/tst_scenes_12e.py', '../../_base_/det_runtime.py'
]
# DDP for distillers: mmengine wraps the model only in distributed runs
model_wrapper_cfg = dict(type='mmtst.DistillerDistributedDataParallel')
model = dict(
    type='mmtst.DetectionDistiller',
    teacher={{_base_.retinanet_teacher}},
    student={{_base_.retinanet_student}},
    teacher_ckpt='work_dirs/retinanet_r18w16_1xb16-12e_scenes/epoch_12.pth',
    augmenter=dict(
        type='LearnableAugmentPolicy',
        backend='neural',
        solve_number=4,
        temperature=0.05,
        cutout_size=32),
    kl_weight=1.0,
    tau=1.0)
